/* A small program for the function-start tests: compiled by the tests with the machine's gcc,
   at -O2 it has static helpers, a .constprop clone and a .cold fragment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { int key; struct node *left, *right; };

static __attribute__((cold, noinline)) void fail(const char *what)
{
    fprintf(stderr, "error: %s\n", what);
    exit(2);
}

static __attribute__((noinline)) struct node *insert(struct node *t, int key)
{
    if (t == NULL) {
        t = malloc(sizeof *t);
        if (__builtin_expect(t == NULL, 0))
            fail("out of memory");
        t->key = key;
        t->left = t->right = NULL;
    } else if (key < t->key) {
        t->left = insert(t->left, key);
    } else {
        t->right = insert(t->right, key);
    }
    return t;
}

static __attribute__((noinline)) int depth(const struct node *t)
{
    if (t == NULL)
        return 0;
    int a = depth(t->left), b = depth(t->right);
    return 1 + (a > b ? a : b);
}

static __attribute__((noinline)) long scaled_sum(const int *v, int n, int factor)
{
    long s = 0;
    for (int i = 0; i < n; i++)
        s += (long)v[i] * factor;
    return s;
}

__attribute__((noinline)) unsigned checksum(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 ^ (unsigned char)*s++;
    return h;
}

__attribute__((noinline)) int classify(int c)
{
    switch (c) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return 1;
    case ' ': case '\t': case '\n': return 2;
    case '0' ... '9': return 3;
    case '.': case ',': case ';': return 4;
    default: return 0;
    }
}

__attribute__((noinline)) void reverse(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n / 2; i++) {
        char c = s[i];
        s[i] = s[n - 1 - i];
        s[n - 1 - i] = c;
    }
}

__attribute__((noinline)) double mean(const double *v, int n)
{
    if (__builtin_expect(n <= 0, 0))
        fail("mean of nothing");
    double s = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    return s / n;
}

__attribute__((noinline)) int gcd(int a, int b)
{
    while (b != 0) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int main(int argc, char **argv)
{
    struct node *t = NULL;
    int values[64];
    double d[64];
    for (int i = 0; i < 64; i++) {
        values[i] = (i * 37 + argc) % 101;
        d[i] = values[i] / 3.0;
        t = insert(t, values[i]);
    }
    char word[] = "scrutiny";
    reverse(word);
    int kinds = 0;
    for (const char *p = argv[0]; *p; p++)
        kinds += classify(*p);
    printf("%d %ld %ld %u %d %.3f %d %s\n", depth(t), scaled_sum(values, 64, 3),
           scaled_sum(values, 32, 3), checksum(word), kinds, mean(d, 64), gcd(values[3], 84),
           word);
    return 0;
}
