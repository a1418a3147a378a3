"""``DPMixtureRegression``: the DMM-MEN surrogate as a scikit-learn-style estimator."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sys
import warnings

import numpy as np
from scipy.special import log_ndtr

from scrutiny._validation import (
    as_float_matrix,
    as_float_vector,
    column_names,
    job_count,
    user_stacklevel,
)
from scrutiny.surrogate.backends import backend_name, make_backend
from scrutiny.surrogate.driver import chains_run_separately, check_run, check_seed, run_chains
from scrutiny.surrogate.kernel import GibbsData, Priors, SamplerParams, fitted_width
from scrutiny.surrogate.summaries import weighted_quantiles

# Hyperparameters the estimator's own arguments set: ``priors`` may not set them again.
_ARGUMENT_PRIORS = frozenset({"n_components", "n_nets", "lambda1", "lambda2"})
# The least scale of a constant y: its noise variances' scale, its square, is a normal
# float64 (a constant of 1e-160 in its own units would have variances of 0)
_SMALLEST_SCALE = float(np.sqrt(np.finfo(np.float64).tiny))
_COUNTS = frozenset(
    {"n_components", "n_nets", "n_sweeps", "burn_in", "thin", "n_chains", "max_stored_draws"}
)


class NotFittedError(RuntimeError, ValueError, AttributeError):
    """An estimator used before ``fit``: what scikit-learn's checks catch (a ValueError or
    AttributeError, as its own NotFittedError), and a RuntimeError as before. Raised as a
    subclass of scikit-learn's own NotFittedError too where that is imported, as it is
    wherever a caller names it: ``except sklearn.exceptions.NotFittedError`` missed it."""


@functools.cache
def _also_sklearns(sklearn_error):
    def __reduce__(self):  # pickled (from a worker process) by how it is made
        return _not_fitted, self.args

    body = {"__module__": __name__, "__reduce__": __reduce__}
    return type("NotFittedError", (NotFittedError, sklearn_error), body)


def _not_fitted(message):
    """A NotFittedError, scikit-learn's too if its exceptions are imported (importing
    scikit-learn here would cost every ``import scrutiny`` a second)."""
    sklearn = sys.modules.get("sklearn.exceptions")
    kind = NotFittedError if sklearn is None else _also_sklearns(sklearn.NotFittedError)
    return kind(message)


class DPMixtureRegression:
    """Dirichlet-process mixture of linear regressions with multiple elastic-net priors.

    Each occupied component is one linear regime of y on Z; ``coef_`` are posterior means
    after label switching is resolved, averaged over the draws in which the component held
    rows (``occupancy_`` is the share of such draws; never-occupied components are NaN).
    A feature that is 0 in every row never meets the likelihood: its ``coef_`` is its exact
    posterior mean, the prior's 0, and its draws and intervals are the prior's.
    Fitted by Gibbs sampling (``scrutiny.surrogate.kernel``) over ``n_chains`` chains;
    memory does not grow with ``n_sweeps``.

    ``diagnostics_`` holds split R-hat and effective sample sizes of the log-likelihood
    and of each coefficient (``coef_rhat``, ``coef_ess``: (J, p); ``coef_rhat_max`` and
    ``coef_ess_min`` over the components that held rows in every draw, the intercepts'
    apart), per-chain traces of the log-likelihood (in y's units; entry t is that of the
    state the t-th stored sweep started from, the draw before it), of the occupied
    components and of the concentration, the draws kept and stored (of all chains) and
    the seconds taken.

    Parameters
    ----------
    n_components : int
        Truncation level of the Dirichlet process: an upper bound on the number of regimes.
    n_nets : int
        Number of elastic-net priors the components choose from.
    n_sweeps, burn_in, thin, n_chains : int
        Gibbs sweeps per chain, of which the first ``burn_in`` (default: half) are discarded
        and every ``thin``-th of the rest is kept.
    fit_intercept : bool
        Give every component an (unpenalised) intercept.
    standardize : bool
        Fit on y centred and scaled to unit variance, so the default priors do not depend on
        the units of y; all outputs are in the original units. Z is taken as it is: the
        priors of its coefficients and of the intercept are in its units, so give it
        centred columns on comparable scales (the Explainer's representations do).
    init : "random", "kmeans", "quantile" or array of labels
        Starting partition: uniform random (the default: on MNIST it reached better modes
        and agreeing chains more often than the others), k-means++ on (Z, y), equal-size
        bins of sorted y, or given labels.
    lambda1, lambda2 : float or None
        Fix the elastic-net penalties (``lambda1=0`` gives a ridge prior); None samples them.
    priors : dict or None
        Other hyperparameters of ``scrutiny.surrogate.kernel.Priors``. Its noise prior,
        IG(0.5, 0.5), is in the standardised units of y, whose spread includes the gaps
        between regimes: a component of n_j rows fitting them almost exactly keeps a noise
        variance near var(y) / n_j, and coefficient intervals set by it rather than by its
        own residuals (noise of sd 0.1, another regime 100 away: 39x wider than a
        least-squares fit's 95% interval, 3.6x with it 5 away). A vaguer prior
        (``{"noise_shape": 1e-3, "noise_scale": 1e-3}``) narrows them; an exactly linear
        regime's variance can then shrink without bound.
    max_stored_draws : int
        Thinned draws kept per chain for intervals, responsibilities and diagnostics (an
        even number: when full, every other one is dropped).
    device : "cpu", "torch" or "cuda[:N]"
        Where the linear algebra runs; "cpu" uses numpy, the others torch.
    dtype : "float64" or "float32"
        Precision of the data-sized linear algebra.
    n_jobs : int or None
        Chains of large fits run at once, in processes of their own (threads would take
        turns on the GIL); None = as many as there are cores, -1 too, -2 one fewer. Small
        fits run all their chains as one batched kernel in the calling thread. Results do
        not depend on it.
    batch_chains : bool or None
        Run all chains as one batched kernel (True), each on its own (False), or decide by
        the fit's size (None: batched when its time is calls rather than arithmetic).
        Batched chains share one core and cost less per chain (10-24% on the
        Fashion-MNIST local fits, 1,000 rows x 400-540 columns); separate chains of a large
        fit can use a core each. The draws depend on it, not on ``n_jobs``.
    progress : bool
        Show a progress bar.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
    """

    def __init__(
        self,
        n_components=10,
        *,
        n_nets=3,
        n_sweeps=600,
        burn_in=None,
        thin=1,
        n_chains=2,
        fit_intercept=True,
        standardize=True,
        init="random",
        lambda1=None,
        lambda2=None,
        priors=None,
        max_stored_draws=200,
        device="cpu",
        dtype="float64",
        n_jobs=None,
        batch_chains=None,
        progress=True,
        random_state=None,
    ):
        self.n_components = n_components
        self.n_nets = n_nets
        self.n_sweeps = n_sweeps
        self.burn_in = burn_in
        self.thin = thin
        self.n_chains = n_chains
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.init = init
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.priors = priors
        self.max_stored_draws = max_stored_draws
        self.device = device
        self.dtype = dtype
        self.n_jobs = n_jobs
        self.batch_chains = batch_chains
        self.progress = progress
        self.random_state = random_state

    # -- scikit-learn protocol ----------------------------------------------------------

    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self, deep=True):
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"unknown parameter {key!r}; valid ones are {sorted(valid)}")
            setattr(self, key, value)
        return self

    _estimator_type = "regressor"  # scikit-learn before 1.6 reads this, not the tags

    def __sklearn_tags__(self):
        """A regressor, to scikit-learn's model selection (GridSearchCV, cross_val_score):
        only scikit-learn calls this, so only then is it imported."""
        from sklearn.utils import RegressorTags, Tags, TargetTags

        return Tags(
            estimator_type="regressor",
            target_tags=TargetTags(required=True),
            transformer_tags=None,
            classifier_tags=None,
            regressor_tags=RegressorTags(),
        )

    def __repr__(self):
        defaults = {
            k: v.default for k, v in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults.get(k))
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    # -- fitting ------------------------------------------------------------------------

    def fit(self, Z, y, lower=None, upper=None):
        """Sample the posterior of the mixture given features Z (n, p) and responses y (n,).

        lower, upper : float or None
            Censoring bounds: a response at or below ``lower`` (at or above ``upper``) is
            only known to lie there or beyond (a Tobit likelihood; its value is imputed at
            every sweep). Use them for responses that were clipped or saturate, such as the
            logits of probabilities that round to 0 or 1.
        """
        lo, hi = _bounds(lower, upper)
        names = column_names(Z)
        Z = as_float_matrix(Z, "Z")
        y = as_float_vector(y, "y", n=Z.shape[0], lower=lo, upper=hi)
        _fit_together([self], Z, [y], lower, upper, names)
        return self

    def fit_responses(self, Z, Y, lower=None, upper=None):
        """Fit a copy of this estimator to each column of Y (n, R), all on features Z, with
        the censoring bounds of ``fit``; returns the R fitted copies (this one stays as it
        was).

        Small fits run the chains of all R as one batched kernel, from this estimator's
        random_state (about a third less time per chain on MNIST superpixels than one fit
        at a time); a response's draws therefore depend on the others fitted with it.
        """
        lo, hi = _bounds(lower, upper)
        names = column_names(Z)
        Z = as_float_matrix(Z, "Z")
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape[1] == 0:
            raise ValueError(f"Y must be 2-D (n_samples, n_responses); got shape {Y.shape}")
        ys = [
            as_float_vector(Y[:, r], f"column {r} of Y", n=Z.shape[0], lower=lo, upper=hi)
            for r in range(Y.shape[1])
        ]
        fits = [type(self)(**self.get_params()) for _ in ys]
        _fit_together(fits, Z, ys, lower, upper, names)
        return fits

    def _set_fitted(self, post, p):
        s, c, off = self.y_scale_, self.y_center_, int(self.fit_intercept)
        J = post.coef_mean.shape[0]
        self.n_features_in_ = p
        self.n_iter_ = int(self.n_sweeps)
        self.coef_ = s * post.coef_mean[:, off:]
        self.coef_std_ = s * np.sqrt(post.coef_var[:, off:])
        self.intercept_ = (
            s * post.coef_mean[:, 0] + c if off else np.where(post.occupancy > 0, c, np.nan)
        )
        self.noise_var_ = s**2 * post.noise_var
        self.mixture_coef_ = s * post.mixture_coef[off:]
        self.mixture_intercept_ = float(s * post.mixture_coef[0] + c if off else c)
        self.occupancy_ = post.occupancy
        self.weights_ = post.weights
        self.component_sizes_ = post.counts
        self.labels_ = post.label_counts.argmax(axis=1)
        self.label_probabilities_ = post.label_counts / post.label_counts.sum(axis=1, keepdims=True)
        coef = post.draws["coef"]  # (chains, draws, J, P), float32, times coef_unit
        flat = coef.reshape(-1, *coef.shape[2:]) / post.coef_unit  # float64: exact
        self.coef_draws_ = _in_units(flat[..., off:], s)
        self.intercept_draws_ = (
            flat[..., 0].astype(np.float64) * s + c if off else np.full(flat.shape[:2], c)
        )
        with np.errstate(over="ignore"):  # an empty component's prior draw beyond float64
            self.noise_var_draws_ = s**2 * post.draws["noise_var"].reshape(-1, J)  # inf
        self.weights_draws_ = post.draws["weights"].reshape(-1, J)
        self.counts_draws_ = post.draws["counts"].reshape(-1, J)
        diag = dict(post.diagnostics)
        if "log_likelihood_trace" in diag:  # in y's units: a censored row's is a probability
            observed = post.label_counts.shape[0] - self.n_censored_
            diag["log_likelihood_trace"] = diag["log_likelihood_trace"] - observed * np.log(s)
        if "coef_rhat" in diag:
            for key in ("coef_rhat", "coef_ess"):
                full = diag.pop(key)
                diag[key] = full[:, off:]
                if off:
                    diag[key.replace("coef", "intercept")] = full[:, 0]
            steady = diag["always_occupied"]
            if steady.any():
                diag["coef_rhat_max"] = float(np.nanmax(diag["coef_rhat"][steady]))
                diag["coef_ess_min"] = float(np.nanmin(diag["coef_ess"][steady]))
        self.diagnostics_ = diag

    # -- using the fit ------------------------------------------------------------------

    def _check_fitted(self):
        if not hasattr(self, "coef_"):
            raise _not_fitted(f"this {type(self).__name__} is not fitted yet; call fit(Z, y) first")

    def _check_Z(self, Z):
        self._check_fitted()
        fitted, names = getattr(self, "feature_names_in_", None), column_names(Z)
        if fitted is not None and names is not None and names != list(fitted):
            raise ValueError(  # as scikit-learn's: other columns, or the same reordered
                f"Z's columns {names[:5]} are not those fitted, in their order: {list(fitted)[:5]}"
            )
        # as scikit-learn's: columns read by position where one side names them (not by
        # a frame's integer labels, pd.DataFrame(A)'s, nor their strings)
        given = names is not None and _names_columns(Z.columns)
        if (fitted is None and given) or (
            names is None and fitted is not None and _names_columns(fitted)
        ):
            kind = type(self).__name__
            warnings.warn(
                f"Z has feature names, but {kind} was fitted without feature names"
                if given
                else f"Z does not have valid feature names, but {kind} was fitted with "
                "feature names",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        Z = as_float_matrix(Z, "Z")
        if Z.shape[1] != self.n_features_in_:
            raise ValueError(
                f"Z has {Z.shape[1]} features but the model was fitted with {self.n_features_in_}"
            )
        return Z

    def predict_components(self, Z):
        """(n, J) prediction of every component's regression (posterior means; NaN for a
        component that never held rows)."""
        Z = self._check_Z(Z)
        return Z @ self.coef_.T + self.intercept_

    def predict(self, Z):
        """(n,) posterior mean of the mixture's prediction: in each draw, the predictions of
        the components holding rows, weighted by their share of the weight among them
        (``mixture_coef_``, ``mixture_intercept_``). The product of their means, weights_
        times coef_, over-weighted a component that held a row or two in a few draws: its
        mean weight counts its prior's in the draws in which it was empty."""
        Z = self._check_Z(Z)
        return Z @ self.mixture_coef_ + self.mixture_intercept_

    def score(self, Z, y):
        """R^2 of ``predict(Z)`` against y: scikit-learn's score of a regressor, which its
        model selection maximises (1 for a perfect fit, 0 for predicting the mean)."""
        pred = self.predict(Z)
        y = as_float_vector(y, "y", n=pred.shape[0])
        ss_res, ss_tot = np.sum((y - pred) ** 2), np.sum((y - y.mean()) ** 2)
        if ss_tot == 0:  # a constant y: as scikit-learn's r2_score, 1 if matched, else 0
            return float(ss_res == 0)
        return float(1.0 - ss_res / ss_tot)

    def responsibilities(self, Z, y, batch_size=256):
        """(n, J) posterior probability that each row belongs to each component, given its
        response: averaged over the stored posterior draws, not plugged in at the means.
        Responses beyond the censoring bounds of the fit count as censored."""
        whole = isinstance(batch_size, int | np.integer) and not isinstance(batch_size, bool)
        if not whole or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number of rows >= 1, got {batch_size!r}")
        Z = self._check_Z(Z)
        lower, upper = self.censoring_
        y = as_float_vector(y, "y", n=Z.shape[0], lower=lower, upper=upper)
        out = np.empty((Z.shape[0], self.coef_draws_.shape[1]))
        for lo in range(0, Z.shape[0], batch_size):
            batch = slice(lo, lo + batch_size)
            out[batch] = self._draw_responsibilities(Z[batch], y[batch]).mean(axis=1)
        return out

    def _draw_responsibilities(self, Z, y, held_only=False):
        """(n, D, J): each row's full conditional over the components in each stored draw
        (of the components that held rows in it, if ``held_only``)."""
        lower, upper = self.censoring_
        D, J, p = self.coef_draws_.shape
        log_w = np.log(np.maximum(self.weights_draws_, 1e-300))
        s2 = self.noise_var_draws_
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # handled below
            # without BLAS, whose sums for a row depend on the rows beside it in the batch:
            # an input's component probability moved (1e-8) with the inputs explained with it
            flat = self.coef_draws_.reshape(D * J, p)
            mu = np.einsum("np,kp->nk", Z.astype(_precision_of(Z)), flat, optimize=False)
            mu = mu.reshape(-1, D, J)
            mu = mu + self.intercept_draws_
            yb = y[:, None, None]
            sd = np.sqrt(s2)
            # (res / sd)^2, not res^2 / s2: at large scales an empty component's prior
            # draws overflow both to inf, and inf / inf made the row NaN
            logp = log_w - 0.5 * np.log(2 * np.pi * s2) - 0.5 * ((yb - mu) / sd) ** 2
            # log_ndtr of the censored rows only: of every row, it took a third of the time
            low, high = yb[:, 0, 0] <= lower, yb[:, 0, 0] >= upper
            logp[low] = log_w + log_ndtr((lower - mu[low]) / sd)
            logp[high] = log_w + log_ndtr((mu[high] - upper) / sd)
            # an empty component's prior draw can pass float32's range in the stored
            # coefficients (a vague noise prior): inf - inf is NaN, and such a draw
            # explains no response: density 0
            logp[~np.isfinite(logp)] = -np.inf
            if held_only:
                logp[:, self.counts_draws_ == 0] = -np.inf
            top = logp.max(axis=2, keepdims=True)
            lost = ~np.isfinite(top[:, :, 0]).all(axis=1)
            if lost.any():  # -inf - -inf: NaN responsibilities, and assign said component 0
                row = int(np.flatnonzero(lost)[0])
                raise ValueError(
                    f"row {row}'s response {y[row]:.3g} has density 0 under every component "
                    "of a draw (beyond float64's range at their scale): rescale y"
                )
            logp -= top
            prob = np.exp(logp)
            return prob / prob.sum(axis=2, keepdims=True)

    def row_posterior(self, z, y, level=0.95):
        """The coefficients of the component that holds one row (z (p,), y): their posterior
        mean, the intercept's, and equal-tailed ``level`` intervals of the coefficients. In
        each stored draw the components that held rows are weighted by the row's full
        conditional there, so that no labelling is needed: ``coef_[assign(z, y)]`` pools
        one component across chains, and where chains split the rows differently it
        averaged the row's own regime with another's (a local fit's input sat in half its
        draws in a component of other rows: its effect halved)."""
        self._check_fitted()
        if hasattr(z, "to_frame"):  # a Series row (frame.iloc[i]): its index names its columns
            z = z.to_frame().T
        if not hasattr(z, "columns"):  # a frame's names are checked as predict's are
            z = np.asarray(z, dtype=float)
        shape = np.shape(z)
        if len(shape) != 1 and shape[:-1] != (1,):  # two rows read as one of twice the width
            raise ValueError(f"row_posterior takes one row z of shape (p,), got {shape}")
        z = self._check_Z(z if len(shape) == 2 else np.reshape(z, (1, -1)))
        lower, upper = self.censoring_
        y = as_float_vector(np.reshape(y, -1), "y", n=1, lower=lower, upper=upper)
        q = _equal_tails(level)
        prob = self._draw_responsibilities(z, y, held_only=True)[0]  # (D, J)
        which = prob > 0
        weight = prob[which] / prob.shape[0]
        coef = self.coef_draws_[which].astype(np.float64)
        mean = weight @ coef
        intercept = float(weight @ self.intercept_draws_[which])
        lo, hi = weighted_quantiles(coef, weight, q)
        return mean, intercept, lo, hi

    def assign(self, Z, y):
        """(n,) component of each row given its response, by posterior responsibility."""
        return self.responsibilities(Z, y).argmax(axis=1)

    def coef_interval(self, level=0.95, components=None):
        """Equal-tailed credible intervals of ``coef_``: (lower, upper), each (J, p), from
        the stored draws in which the component held rows (NaN if it held rows in fewer
        than two).
        The stored draws are ``max_stored_draws`` per chain, thinned evenly from the kept
        ones that ``coef_`` averages: a component that held rows in few kept draws (a small
        ``occupancy_``) may hold them in none or few stored ones, and then its interval is
        NaN or need not contain its ``coef_``.
        ``components``: only these (indices, or a boolean mask of the J components; the
        others NaN), as each costs quantiles of all its draws and an explanation needs
        those of the components its inputs are in."""
        self._check_fitted()
        q = _equal_tails(level)
        lo, hi = np.full((2, *self.coef_.shape), np.nan)
        for j in self._components(components):  # a quantile of its draws
            held = self.counts_draws_[:, j] > 0
            if held.sum() >= 2:  # one draw is no spread: [v, v] read as certainty
                lo[j], hi[j] = np.quantile(self.coef_draws_[held, j].astype(np.float64), q, axis=0)
        return lo, hi

    def _components(self, components):
        """The component indices that ``components`` (None: all, indices or a boolean mask)
        selects; a ValueError for a mask of another length, an index out of range, or none."""
        J = self.coef_.shape[0]
        if components is None:
            return np.arange(J)
        sel = np.asarray(components)
        if sel.dtype == bool:
            if sel.shape != (J,):
                raise ValueError(
                    f"a boolean mask of components needs one entry per component ({J}), got "
                    f"shape {sel.shape}"
                )
            sel = np.flatnonzero(sel)
        if sel.size == 0:
            raise ValueError("components selects no component")
        if sel.ndim != 1 or not np.issubdtype(sel.dtype, np.integer):
            raise ValueError(
                f"components must be component indices or a boolean mask, got {components!r}"
            )
        out = (sel < -J) | (sel >= J)
        if out.any():
            raise ValueError(f"component index {sel[out][0]} is out of range for {J} components")
        return sel


def _bounds(lower, upper):
    for name, bound in (("lower", lower), ("upper", upper)):
        if np.ndim(bound) > 0:  # numpy's "only 0-dimensional arrays can be converted"
            raise ValueError(
                f"{name} must be one number, the censoring bound of every response, got "
                f"shape {np.shape(bound)}"
            )
        # float('a') said "could not convert string to float: 'a'", naming neither; NaN
        # compares false, which read "lower must be below upper, got nan and None"
        try:
            if bound is not None and np.isnan(float(bound)):
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number or None, got {bound!r}") from None
    lo = -np.inf if lower is None else float(lower)
    hi = np.inf if upper is None else float(upper)
    if not lo < hi:
        raise ValueError(f"lower must be below upper, got {lower} and {upper}")
    return lo, hi


def _fit_together(estimators, Z, ys, lower, upper, names=None):
    """Fit ``estimators[r]`` (all with the same settings) to ``ys[r]``: one run of chains,
    with the first one's random_state. Each response is centred and scaled on its own.
    ``names``: Z's column names (a DataFrame's), which predict's Z must then have."""
    first = estimators[0]
    width = fitted_width(Z, first.fit_intercept)
    check_settings(first.get_params(), fit_shape=(Z.shape[0], width), n_responses=len(ys))
    lo, hi = _bounds(lower, upper)
    if Z.shape[0] < 2:
        raise ValueError(f"need at least 2 samples to fit, got {Z.shape[0]}")
    _check_magnitude(Z, first.dtype)
    offsets = _offsets(Z)
    if first.dtype == "float32":
        _check_float32_scale(Z, offsets)
    if not first.fit_intercept and not Z.any():
        raise ValueError("Z has no non-zero column and fit_intercept=False: nothing to regress on")
    scaled, bounds, units = [], [], []
    for r, (est, y) in enumerate(zip(estimators, ys, strict=True)):
        inside = (y > lo) & (y < hi)
        if not inside.any():
            of = f" of column {r} of Y" if len(ys) > 1 else ""
            raise ValueError(
                f"every response{of} is censored: nothing lies between lower and upper"
            )
        yc = np.clip(y, lo, hi)
        c = float(yc.mean()) if (est.standardize and est.fit_intercept) else 0.0
        spread = _spread(yc, c)
        sc = spread if (est.standardize and spread > 0) else 1.0
        if est.standardize and spread == 0 and c != 0:  # a constant: in units of 1 or of its
            sc = min(1.0, max(abs(c), _SMALLEST_SCALE))  # size, the smaller (1e-6 was 0.009 off)
        if est.standardize:
            _warn_spikes(y[inside], sc, f" of column {r} of Y" if len(ys) > 1 else "")
        n_censored = int((~inside).sum())
        units.append(dict(censoring_=(lo, hi), n_censored_=n_censored, y_center_=c, y_scale_=sc))
        scaled.append((yc - c) / sc)
        bounds.append(((lo - c) / sc, (hi - c) / sc))
    priors = Priors(
        n_components=int(first.n_components),
        n_nets=int(first.n_nets),
        lambda1=first.lambda1,
        lambda2=first.lambda2,
        **prior_settings(first.priors),
    )
    if first.fit_intercept:
        _warn_offsets(Z, priors, offsets)
        for est, y in zip(estimators, scaled, strict=True):
            if not est.standardize:
                _warn_response_offset(y, priors)
    params = SamplerParams(priors=priors, init=first.init)
    lower_s, upper_s = np.array(bounds).T
    data = GibbsData.build(
        Z,
        np.array(scaled),
        make_backend(first.device, first.dtype),
        fit_intercept=first.fit_intercept,
        lower=None if lower is None else lower_s,
        upper=None if upper is None else upper_s,
    )
    burn_in = first.n_sweeps // 2 if first.burn_in is None else first.burn_in
    posteriors = run_chains(
        data,
        params,
        n_chains=int(first.n_chains),
        n_sweeps=int(first.n_sweeps),
        burn_in=int(burn_in),
        thin=int(first.thin),
        random_state=first.random_state,
        progress=first.progress,
        n_jobs=first.n_jobs,
        max_stored_draws=int(first.max_stored_draws),
        batched=first.batch_chains,
    )
    unseen = ~(Z != 0).any(axis=0)
    for est, post, fitted in zip(estimators, posteriors, units, strict=True):
        vars(est).update(fitted)  # only now: a fit that fails leaves the last one whole
        vars(est).pop("feature_names_in_", None)
        if names is not None:
            est.feature_names_in_ = np.array(names, dtype=object)
        est._set_fitted(post, Z.shape[1])
        held = np.isfinite(est.coef_[:, unseen])  # components that never held rows stay NaN
        est.coef_[:, unseen] = np.where(held, 0.0, np.nan)
        est.mixture_coef_[unseen] = 0.0  # the exact posterior mean, not prior draws' mean


def _offsets(Z):
    """Each column's mean, sd and |mean| / sd, the ratio 0 for a column constant to rounding
    (100.3 in every row: sd 3e-14), by the bound on the variance's rounding that
    representations.tabular and scikit-learn's StandardScaler use."""
    n, mean, sd = Z.shape[0], Z.mean(axis=0), Z.std(axis=0)
    eps = np.finfo(np.float64).eps
    constant = sd**2 <= n * eps * sd**2 + (n * mean * eps) ** 2
    return mean, sd, np.divide(np.abs(mean), sd, out=np.zeros_like(sd), where=~constant)


def _warn_offsets(Z, priors, offsets, tolerance=0.01):
    """Warn of columns whose mean m is far from 0 for their spread sd (a year, a timestamp):
    the intercept b ~ N(0, s2 / lam0) then cannot absorb m * coefficient, which adds lam0 m^2
    to the coefficient's precision (in units of 1 / s2) beside the data's n sd^2 and the
    elastic net's lam2 (taken at its prior mean), shrinking it toward 0 by that share (a
    column of mean 100 and sd 1, 300 rows: by a quarter, its 95% interval missing the
    truth). Only columns 10 sd or more from 0 count: with few rows a column of noise lies
    several sd out by chance. A column constant in Z (or to its rounding) adds nothing.
    ``offsets``: ``_offsets(Z)``."""
    n, (mean, sd, ratio) = Z.shape[0], offsets
    lam2 = (
        priors.lambda2 if priors.lambda2 is not None else priors.lambda2_shape / priors.lambda2_rate
    )
    pull = priors.intercept_precision * mean**2
    shrink = pull / (n * sd**2 + lam2 + pull)
    bad = np.flatnonzero((shrink > tolerance) & (ratio >= 10))
    if bad.size:
        warnings.warn(
            f"column(s) {bad[:10].tolist()} of Z lie far from 0 for their spread (|mean| / sd "
            f"up to {ratio[bad].max():.3g}): the intercept's prior cannot absorb their offset, "
            f"which shrinks their coefficients toward 0 (by {shrink[bad].max():.0%} in a component "
            "of every row, more in smaller ones); centre them (Z - Z.mean(axis=0))",
            stacklevel=4,
        )


def _warn_response_offset(y, priors, tolerance=0.01):
    """Warn of a y far from 0 for its spread, left uncentred (``standardize=False``): its
    intercept b ~ N(0, s2 / lam0) lies at y's mean m, and its prior's lam0 m^2 enters the
    noise variance's sum of squares beside the data's n var(y) (y + 1000 over two regimes
    of noise sd 0.01: noise sd 7, the regimes lost)."""
    m, n = float(np.mean(y)), y.size
    pull = priors.intercept_precision * m**2
    share = pull / (n * float(np.var(y)) + pull)
    if share > tolerance:
        warnings.warn(
            f"y lies far from 0 for its spread (mean {m:.4g}, sd {np.std(y):.4g}) and "
            "standardize=False: the intercept's prior cannot absorb its mean, which inflates "
            f"the noise variance (by {share:.0%} of the sum of squares); centre y, or pass "
            "standardize=True",
            stacklevel=4,
        )


def _names_columns(labels):
    """Whether column labels name the columns, as scikit-learn reads them: strings, not
    integers (a frame made from an array) nor the strings of integers."""
    return all(isinstance(n, str) and not n.lstrip("-").isdigit() for n in labels)


def _warn_spikes(y, scale, of=""):
    """Warn of a y whose spread is set by a few rows (5% at most) far from the others: the
    noise prior, IG(0.5, 0.5) in units of that spread, adds at least spread^2 / n to every
    regime's noise variance, which swamps the others' own noise once spread / sqrt(n)
    passes 3 times their sd (3 outputs of 1e6 among 300 of sd 1: a regime's noise sd 8,663
    for 0.1, its explanations 10-30 times too large, signs flipped)."""
    centre = np.median(y)
    off = np.abs(y - centre)
    typical = np.median(off)
    if typical == 0:  # most rows tied (outputs of exactly 0): the spread of the others
        typical = np.median(off[off > 0]) if off.any() else 0.0
    bulk = 1.4826 * float(typical)  # most rows' sd, robustly
    far = int((off > 10 * bulk).sum())
    # a few: a third of a local fit's perturbations far from the rest (one word off) are
    # two regimes to find, not a spread to warn of
    if bulk > 0 and scale / np.sqrt(y.size) > 3 * bulk and far <= 0.05 * y.size:
        warnings.warn(
            f"y{of}'s spread ({scale:.4g}) is {scale / bulk:.0f} times that of most of its "
            f"values ({bulk:.4g}), set by {far} of {y.size} rows far from them: the priors, "
            "in units of that spread, let every regime fit loosely (noise sd at least "
            f"{scale / np.sqrt(y.size):.4g}); fit those rows apart, or a transform of y "
            "(its log, its ranks)",
            stacklevel=user_stacklevel(),
        )


def _check_magnitude(Z, dtype):
    """A ValueError if a column's or row's sum of squares overflows ``dtype``: the Gram
    matrices (X'X) and X D^-1 X' would hold inf, and the sampler fail deep inside."""
    big, limit = np.max(np.abs(Z)), np.finfo(dtype).max
    if big == 0 or big <= np.sqrt(limit / max(Z.shape)):  # no sum can overflow
        return
    with np.errstate(under="ignore"):
        sq = (Z / big) ** 2
    col = sq.sum(axis=0)
    worst = max(col.max(), sq.sum(axis=1).max())
    with np.errstate(over="ignore"):
        too_big = big**2 * worst > limit
    if too_big:
        k = int(col.argmax())
        raise ValueError(
            f"Z is too large for dtype={dtype!r}: values reach {big:.3g} (column {k}), and "
            "their sums of squares overflow it; divide Z by a power of 10"
            + (" or fit in dtype='float64'" if dtype == "float32" else "")
        )


def _check_float32_scale(Z, offsets):
    """A ValueError where float32's 7 digits lose what Z says. A column far from 0 for its
    spread (|mean| / sd > 0.1 / sqrt(eps), about 290) keeps its spread in the Gram matrix's
    n (mean^2 + sd^2) to a relative eps / (sd / mean)^2 > 1%: coefficients [3.9, -6.9, 3.0]
    for [1, -2, 0.5] at a mean of 3,000. A column constant to rounding (a grey border, sd
    1e-17) holds no spread to lose. And a small component's draw cancels terms of the size
    of the columns' scale times sqrt(p) (its coefficients' prior sd is about 1): past 1e5,
    eps times them is past 1% of the noise (at 1e8 and p = 40, residuals 66 times the
    noise sd). ``offsets``: ``_offsets(Z)``."""
    eps = float(np.finfo(np.float32).eps)
    ratio = offsets[2]
    rms = np.sqrt(np.mean(Z**2, axis=0))
    far, large = ratio > 0.1 / np.sqrt(eps), rms.max(initial=0.0) * np.sqrt(Z.shape[1]) > 1e5
    if far.any() or large:
        what = (
            f"column(s) {np.flatnonzero(far)[:10].tolist()} lie far from 0 for their spread "
            f"(|mean| / sd up to {ratio.max():.3g}): centre them"
            if far.any()
            else f"its columns reach a scale of {rms.max():.3g}: divide Z by a power of 10"
        )
        raise ValueError(
            f"Z is beyond float32's 7 digits: {what}, or fit in dtype='float64' (an "
            "Explainer's fits: surrogate={'dtype': 'float64'})"
        )


def _spread(y, c):
    """Root mean square of y - c; a ValueError if its square (the scale of the noise
    variances) overflows or underflows float64: the fit's outputs would be inf or 0."""
    with np.errstate(over="ignore", under="ignore"):
        var = float(np.mean((y - c) ** 2))
        dev = float(np.max(np.abs(y - c)))
    if np.ptp(y) == 0:  # constant: its mean may round (ten times 0.3), its spread is 0
        return 0.0
    if not np.finfo(np.float64).tiny <= var < np.inf:  # squares of 1e-163 are 0: no constant
        raise ValueError(
            f"y varies too {'much' if var > 1 else 'little'} to fit (by up to {dev:.3g} "
            f"around {c:.3g}): its variance is beyond float64's range; rescale y"
        )
    return float(np.sqrt(var))


def _in_units(draws, scale):
    """Standardised float32 coefficient draws in the units of y: kept in float32 (half the
    memory) where float32 holds them, else in float64, not overflowed to inf or rounded to 0.
    Scaled in float64 either way: a scale past float32's range (y's spread above 3.4e38)
    was itself inf in float32, and so was every draw."""
    exact = draws.astype(np.float64) * scale
    return exact.astype(np.float32) if _float32_holds(exact) else exact


def _precision_of(Z):
    """float32 where it holds Z's values, else float64: a column of 1e40 was inf in
    float32, and every row's density 0 ("rescale y")."""
    return np.float32 if _float32_holds(Z) else np.float64


def _float32_holds(a):
    """Whether float32 holds every non-zero value of ``a``, neither inf nor rounded to 0."""
    size = np.abs(a[a != 0])
    info = np.finfo(np.float32)
    return size.size == 0 or bool(info.tiny <= size.min() and size.max() <= info.max)


def _same(a, b):
    try:
        return bool(a == b) if not isinstance(a, np.ndarray) else False
    except (TypeError, ValueError):
        return False


def check_settings(settings, fit_shape=None, n_responses=1):
    """Raise a ValueError naming any key of ``settings`` (keyword arguments meant for
    ``DPMixtureRegression``) that it does not take, any bad entry of their ``priors`` or
    bad value of a hyperparameter, or (given ``fit_shape``, the rows and the columns the
    sampler keeps, intercept included) a fit of ``n_responses`` that this machine cannot
    hold: callers that fit in worker processes check before they start them, and before
    the model is queried for it."""
    valid = set(DPMixtureRegression._param_names())
    unknown = sorted(set(settings) - valid)
    if unknown:
        raise ValueError(f"unknown surrogate setting(s) {unknown}; valid ones are {sorted(valid)}")
    for name in _COUNTS & set(settings):
        value = settings[name]
        whole = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if not (whole or (name == "burn_in" and value is None)):
            raise ValueError(f"{name} must be a whole number, got {value!r}")  # not cut to one
    # the rest as the fit would find it, found before any model is queried for it
    s = {**DPMixtureRegression().get_params(), **settings}
    burn_in = s["n_sweeps"] // 2 if s["burn_in"] is None else s["burn_in"]
    check_run(s["n_chains"], s["n_sweeps"], burn_in, s["thin"], s["max_stored_draws"])
    for name in ("fit_intercept", "standardize", "progress"):
        if not isinstance(s[name], bool | np.bool_):  # "no" was True; 0.5 broke a fitted one
            raise ValueError(f"{name} must be True or False, got {s[name]!r}")
    if s["batch_chains"] not in (None, True, False):
        raise ValueError(f"batch_chains must be None, True or False, got {s['batch_chains']!r}")
    if isinstance(s["init"], str) and s["init"] not in ("kmeans", "quantile", "random"):
        raise ValueError(
            f"init must be 'kmeans', 'quantile', 'random' or an array of labels, got {s['init']!r}"
        )
    check_seed(s["random_state"])
    job_count(settings.get("n_jobs"))
    own = {name: settings[name] for name in _ARGUMENT_PRIORS & set(settings)}
    Priors(**own, **prior_settings(settings.get("priors")))  # checks their values
    make_backend(settings.get("device", "cpu"), settings.get("dtype", "float64"))
    if fit_shape is not None:
        _refuse_beyond_memory(fit_shape, s, n_responses)


def _chains_at_once(settings, n_rows, P, n_responses):
    """How many chains of a fit of n_rows x P hold their Gram matrices at once: all of
    them in one batched kernel, else as many as run side by side (n_jobs; one after the
    other with 1), as ``driver.run_chains`` decides."""
    chains = n_responses * int(settings["n_chains"])
    batch, sweeps = settings["batch_chains"], int(settings["n_sweeps"])
    separate = batch is False or (
        batch is None and chains_run_separately(n_rows, P, sweeps, backend_name(settings["device"]))
    )
    return min(chains, job_count(settings["n_jobs"])) if separate else chains


def _refuse_beyond_memory(fit_shape, settings, n_responses):
    """Refuse a fit whose Gram matrices alone (each chain's n_components x P x P, of the
    chains held at once) exceed this machine's memory: 224 x 224 x 3 pixels failed deep
    inside numpy, asking for 93.8 GiB. A GPU's memory is not this one's: unchecked."""
    if settings.get("device") not in (None, "cpu", "numpy", "torch", "torch:cpu"):
        return
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not known here (Windows has no sysconf)
        return
    n_rows, P = fit_shape
    J, chains = int(settings["n_components"]), _chains_at_once(settings, n_rows, P, n_responses)
    need = chains * J * P * P * np.dtype(settings["dtype"]).itemsize
    if need > memory:
        raise ValueError(
            f"a fit on {P:,} columns needs at least {need / 2**30:.3g} GiB for the Gram "
            f"matrices of {J} components in each of {chains} chains at once, more than "
            f"this machine's {memory / 2**30:.3g} GiB: use fewer features (superpixels: "
            "an Explainer's superpixel=, the command line's --superpixel), components, or "
            "chains at once (n_jobs)"
        )


def _equal_tails(level):
    """The quantiles bounding an equal-tailed credible interval of ``level``."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return [(1 - level) / 2, (1 + level) / 2]


def prior_settings(priors):
    """``priors`` as keyword arguments of ``Priors``, checked: a dict (or None) of its fields
    other than those the estimator's own arguments set."""
    if priors is None:
        return {}
    if not isinstance(priors, dict):
        raise TypeError(f"priors must be a dict or None, got {type(priors).__name__}")
    own = sorted(set(priors) & _ARGUMENT_PRIORS)
    if own:
        raise ValueError(f"set {own} as arguments of DPMixtureRegression, not in priors")
    fields = {f.name for f in dataclasses.fields(Priors)} - _ARGUMENT_PRIORS
    unknown = sorted(set(priors) - fields)
    if unknown:
        raise ValueError(f"unknown prior(s) {unknown}; valid ones are {sorted(fields)}")
    return priors
