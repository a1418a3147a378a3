"""Function starts read from real ELF programs, compiled here by the machine's gcc."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest

pytest.importorskip("elftools")

from scrutiny.datasets.binaries import (
    Program,
    byte_ids,
    centred,
    chunks,
    load_programs,
    read_program,
)

SOURCE = __import__("pathlib").Path(__file__).parent / "data" / "functions.c"
HAVE_GCC = all(shutil.which(tool) for tool in ("gcc", "nm", "readelf", "objcopy", "strip"))
if not HAVE_GCC and os.environ.get("SCRUTINY_REQUIRE_GCC"):
    raise RuntimeError("SCRUTINY_REQUIRE_GCC is set but gcc or binutils is not on the PATH")
needs_gcc = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc and binutils")


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """The test program at -O0 and -O2: unstripped (only tests marked needs_gcc use it)."""
    folder = tmp_path_factory.mktemp("bin")
    for level in ("O0", "O2"):
        subprocess.run(
            ["gcc", f"-{level}", "-o", str(folder / f"functions-{level}"), str(SOURCE)],
            check=True,
        )
    return folder


def _nm_functions(path):
    """{name: address} of the local and global text symbols, by binutils' nm."""
    out = subprocess.run(["nm", str(path)], capture_output=True, text=True, check=True).stdout
    return {
        line.split()[2]: int(line.split()[0], 16)
        for line in out.splitlines()
        if len(line.split()) == 3 and line.split()[1] in "tT"
    }


def _text_address(path):
    out = subprocess.run(
        ["readelf", "-SW", str(path)], capture_output=True, text=True, check=True
    ).stdout
    line = next(x for x in out.splitlines() if " .text " in x)
    return int(line.split(".text")[1].split()[1], 16)


@needs_gcc
def test_starts_are_the_functions_nm_names_inside_text_and_cold_fragments_are_not(programs):
    path = programs / "functions-O2"
    program = read_program(path)
    symbols = _nm_functions(path)
    base = _text_address(path)
    size = program.code.size
    expected = {
        a - base for name, a in symbols.items() if ".cold" not in name and 0 <= a - base < size
    }
    assert set(np.flatnonzero(program.starts)) == expected
    # the source's functions are all there, a .constprop clone counts, .cold fragments not
    for name in ("insert", "depth", "checksum", "classify", "gcd", "main", "fail"):
        assert program.starts[symbols[name] - base], name
    clones = [n for n in symbols if ".constprop" in n or ".isra" in n or ".part" in n]
    colds = [n for n in symbols if ".cold" in n]
    assert clones and colds  # gcc 12 at -O2 makes both from this source
    assert all(program.starts[symbols[n] - base] for n in clones)
    assert not any(program.starts[symbols[n] - base] for n in colds)
    # .init and .fini are outside .text
    assert not 0 <= symbols["_init"] - base < size


@needs_gcc
def test_a_relocatable_files_starts_are_its_text_sections_functions(tmp_path):
    """In a .o every section starts at address 0: ``second``, at 0x10 of a section of its
    own, has the address of a byte inside ``mix`` in .text, and was labelled a start."""
    source, obj = tmp_path / "sections.c", tmp_path / "sections.o"
    source.write_text(
        '__attribute__((section(".text.other"))) int first(int x) { return x + 1; }\n'
        '__attribute__((section(".text.other"))) int second(int x) { return 3 * x - 7; }\n'
        "int mix(int x, int y) { for (int i = 0; i < y; i++) x = x * 31 + (x >> 3) + i; "
        "return x; }\n"
        "int twice(int x) { return 2 * x; }\n"
    )
    subprocess.run(["gcc", "-O2", "-c", "-o", str(obj), str(source)], check=True)
    symbols = _nm_functions(obj)
    assert symbols["mix"] < symbols["second"] < symbols["twice"]  # the case in question
    starts = np.flatnonzero(read_program(obj).starts).tolist()
    assert starts == [symbols["mix"], symbols["twice"]]


@needs_gcc
def test_a_data_only_object_is_refused_and_a_folder_leaves_it_out(tmp_path, monkeypatch):
    """Its .text has no byte: read as a program of none, a model trained or scored on it
    failed after its training, deep inside numpy ("need at least one array")."""
    source, obj = tmp_path / "data.c", tmp_path / "data.o"
    source.write_text("int table[4] = {1, 2, 3, 4};\n")
    subprocess.run(["gcc", "-O2", "-c", "-o", str(obj), str(source)], check=True)
    with pytest.raises(ValueError, match=r"data\.o has an empty \.text: no code to label"):
        read_program(obj)
    monkeypatch.setenv("SCRUTINY_BINARIES", str(tmp_path))
    with pytest.warns(UserWarning, match=r"left out: .*empty \.text"):
        with pytest.raises(ValueError, match="no programs to read"):  # nothing else there
            load_programs()


@needs_gcc
def test_the_code_is_the_text_sections_bytes(programs):
    path = programs / "functions-O0"
    out = subprocess.run(
        ["objcopy", "-O", "binary", "--only-section=.text", str(path), "/dev/stdout"],
        capture_output=True,
        check=True,
    ).stdout
    assert read_program(path).code.tobytes() == out


@needs_gcc
def test_a_stripped_program_and_a_file_that_is_not_elf_are_refused(programs, tmp_path):
    stripped = tmp_path / "stripped"
    subprocess.run(["strip", "-o", str(stripped), str(programs / "functions-O2")], check=True)
    with pytest.raises(ValueError, match="stripped"):
        read_program(stripped)
    with pytest.raises(ValueError, match="not an ELF file"):
        read_program(SOURCE)
    debug = tmp_path / "debug"  # its .text is NOBITS: pyelftools gives zeros, real starts
    subprocess.run(
        ["objcopy", "--only-keep-debug", str(programs / "functions-O2"), str(debug)], check=True
    )
    with pytest.raises(ValueError, match="debug information only"):
        read_program(debug)


@needs_gcc
def test_a_folder_leaves_out_a_program_it_cannot_read_and_one_path_is_named(
    programs, tmp_path, monkeypatch
):
    """One stripped file stopped the whole folder's load; a single path given as a string
    was read letter by letter."""
    folder = tmp_path / "some"
    folder.mkdir()
    shutil.copy(programs / "functions-O0", folder / "a")
    subprocess.run(["strip", "-o", str(folder / "b"), str(programs / "functions-O2")], check=True)
    monkeypatch.setenv("SCRUTINY_BINARIES", str(folder))
    with pytest.warns(UserWarning, match=r"left out: .*b is stripped"):
        assert [p.name for p in load_programs()] == ["a"]
    for one in (str(folder / "a"), folder / "a"):
        with pytest.raises(TypeError, match="paths must be a list of ELF files"):
            load_programs(one)


@needs_gcc
def test_a_truncated_or_damaged_program_is_named(programs, tmp_path):
    """pyelftools reads sections and symbols lazily: a file cut anywhere, in its ELF
    header, its code or its section headers, is a ValueError naming it, not pyelftools'
    ELFParseError; a .text that ends past the file is refused, not read short."""
    from elftools.elf.elffile import ELFFile

    raw = (programs / "functions-O0").read_bytes()
    with open(programs / "functions-O0", "rb") as f:
        elf = ELFFile(f)
        shoff, text = elf["e_shoff"], elf.get_section_by_name(".text")
        names = [s.name for s in elf.iter_sections()]
        entry = shoff + names.index(".text") * elf["e_shentsize"]
        symtab = shoff + names.index(".symtab") * elf["e_shentsize"]
    cut = tmp_path / "cut"
    for n in (20, 100, text["sh_offset"] + 10, len(raw) // 2, shoff + 70, len(raw) - 1):
        cut.write_bytes(raw[:n])
        with pytest.raises(ValueError, match=re.escape(f"{cut} is damaged: ")):
            read_program(cut)
    # sh_offset, sh_size of .text: its bytes past the end (2^62 bytes were asked of memory,
    # 2^63 and 2^64 - 1 failed in a seek: MemoryError, OverflowError, naming no file)
    for field, value in ((24, len(raw) - 8), (32, len(raw) - 8), (32, 2**62), (32, 2**64 - 1)):
        for at, said in ((entry, "its .text ends past the end"), (symtab, "")):
            damaged = bytearray(raw)
            damaged[at + field : at + field + 8] = value.to_bytes(8, "little")
            cut.write_bytes(damaged)
            with pytest.raises(ValueError, match=re.escape(f"{cut} is damaged: {said}")):
                read_program(cut)
    damaged = bytearray(raw)
    damaged[symtab + 4 : symtab + 8] = (1).to_bytes(4, "little")  # a .symtab of SHT_PROGBITS
    cut.write_bytes(damaged)
    with pytest.raises(ValueError, match=r"damaged: its \.symtab is a SHT_PROGBITS"):
        read_program(cut)  # was an AttributeError (no iter_symbols)


def test_without_programs_the_error_says_how_to_build_them(monkeypatch):
    monkeypatch.delenv("SCRUTINY_BINARIES", raising=False)
    with pytest.raises(FileNotFoundError, match=r"build_binaries\.sh"):
        load_programs()


@needs_gcc
def test_the_folder_in_the_environment_gives_its_elf_files(programs, monkeypatch):
    (programs / "notes.txt").write_text("not a program")
    monkeypatch.setenv("SCRUTINY_BINARIES", str(programs))
    assert [p.name for p in load_programs()] == ["functions-O0", "functions-O2"]


@needs_gcc
def test_the_folder_in_the_environment_may_start_with_home(programs, monkeypatch):
    """ "~/bin" as a quoted shell value or a .env file gives it: the home's folder."""
    monkeypatch.setenv("HOME", str(programs.parent))
    monkeypatch.setenv("SCRUTINY_BINARIES", f"~/{programs.name}")
    assert [p.name for p in load_programs()] == ["functions-O0", "functions-O2"]


@needs_gcc
def test_chunks_cover_every_byte_once_and_pad_with_no_byte(programs):
    progs = load_programs([programs / "functions-O0", programs / "functions-O2"])
    ids, labels = chunks(progs, length=64)
    real = ids > 0
    assert real.sum() == sum(p.code.size for p in progs)
    assert labels.sum() == sum(p.starts.sum() for p in progs)
    assert (labels[~real] == 0).all()
    np.testing.assert_array_equal(ids[real][: progs[0].code.size], byte_ids(progs[0].code))


@needs_gcc
def test_centred_sequences_hold_the_byte_in_question_in_the_middle(programs):
    progs = load_programs([programs / "functions-O0", programs / "functions-O2"])
    ids, labels, where = centred(progs, n_starts=10, n_other=15, length=41, random_state=3)
    assert ids.shape == (25, 41) and labels.sum() == 10
    for row, (i, offset) in enumerate(where):
        code = byte_ids(progs[i].code)
        assert ids[row, 20] == code[offset]
        lo = max(offset - 20, 0)
        np.testing.assert_array_equal(ids[row, 20 - (offset - lo) : 21], code[lo : offset + 1])
        assert (ids[row, : 20 - (offset - lo)] == 0).all()  # before .text: no byte
        assert labels[row] == progs[i].starts[offset]
    again = centred(progs, n_starts=10, n_other=15, length=41, random_state=3)
    np.testing.assert_array_equal(again[0], ids)


@needs_gcc
def test_the_rnn_labels_every_byte_and_at_position_asks_about_one(programs, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from scrutiny.zoo.function_start_rnn import at_position, function_start_rnn

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    progs = load_programs([programs / "functions-O0", programs / "functions-O2"])
    rnn, facts = function_start_rnn(progs[:1], progs[1:], "fixture", epochs=1, progress=False)
    assert set(facts["test"]) == {"precision", "recall", "f1"}
    ids = torch.as_tensor(centred(progs, 3, 3, length=200)[0])
    with torch.no_grad():
        full = rnn(ids)
        assert full.shape == (6, 200, 2)
        np.testing.assert_array_equal(at_position(rnn, 100)(ids.float()), full[:, 100])
    # cached: the same weights come back without training; another recipe trains again
    again, facts_again = function_start_rnn(progs[:1], progs[1:], "fixture", epochs=1)
    assert facts_again["train_seconds"] == facts["train_seconds"]
    for a, b in zip(rnn.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    _, other = function_start_rnn(progs[1:], progs[:1], "fixture", epochs=1, progress=False)
    assert other["recipe"]["data"][0][0] == "functions-O2"


def test_programs_and_sequences_refuse_what_they_cannot_mean():
    """0/1 integer starts are bools (~ of them, -1 and -2, made every byte 'other' and rows
    repeat); lengths and counts are whole numbers; no programs is named."""
    code = np.arange(40, dtype=np.uint8)
    marks = np.zeros(40, dtype=np.int64)
    marks[[3, 20]] = 1
    ids, labels, _ = centred([Program("p", code, marks)], n_starts=2, n_other=16, length=9)
    assert labels.sum() == 2 and len(np.unique(ids, axis=0)) == 18
    with pytest.raises(ValueError, match="starts must be bools"):
        Program("p", code, np.full(40, 2))
    with pytest.raises(ValueError, match=r"must mark each byte of code \(40,\)"):
        Program("p", code, marks[:39])
    with_bytes = Program("p", code.tobytes(), marks)  # b"..." was read as code of shape ()
    assert with_bytes.code.dtype == np.uint8 and (with_bytes.code == code).all()
    assert Program("p", code.tolist(), marks).code.dtype == np.uint8
    for bad in ([300] * 40, [-1] * 40, np.full(40, 1.5)):  # were kept, refused at chunks
        with pytest.raises(ValueError, match="p: code must be bytes, values 0-255"):
            Program("p", bad, marks)
    progs = [Program("p", code, marks)]
    for call, message in (
        (lambda: chunks(progs, length=0), "length must be a whole number, at least 1"),
        (lambda: centred(progs, 2.7, 0), "n_starts must be a whole number, at least 0"),
        (lambda: centred(progs, 2, 2, length=4.5), "length must be a whole number"),
        (lambda: chunks([]), "no programs given"),
        (lambda: centred([], 1, 1), "no programs given"),
    ):
        with pytest.raises(ValueError, match=message):
            call()


def test_the_rnn_takes_rows_of_ids_and_a_position_inside_them():
    """One row (200,) was read by torch as an unbatched sequence: per-byte logits came back
    from at_position where one per row was asked for; a position past the row is named;
    a uint8 tensor (raw bytes) is refused by the explainer as a uint8 array is."""
    torch = pytest.importorskip("torch")
    from scrutiny import Explainer
    from scrutiny.zoo.function_start_rnn import at_position, build

    rnn = build(seed=0).eval()
    row = torch.as_tensor(byte_ids(np.arange(200) % 256))
    with pytest.raises(ValueError, match=r"rows of byte ids \(n, length\), got shape \(200,\)"):
        at_position(rnn, 1)(row)
    with pytest.raises(ValueError, match="position 200 is outside rows of 200 bytes"):
        at_position(rnn, 200)(row[None])
    assert at_position(rnn, 100)(row[None]).shape == (1, 2)
    for odd in (100.7, "100", True):  # byte 100's was explained for 100.7
        with pytest.raises(ValueError, match=r"position must be a whole number"):
            at_position(rnn, odd)
    assert at_position(rnn, np.int64(-1)).position == -1
    with pytest.raises(TypeError, match="holds uint8 values, raw bytes"):
        Explainer(
            at_position(rnn, 100),
            torch.zeros((2, 200), dtype=torch.uint8),
            mode="local",
            representation="tokens",
            outputs="logits",
        )
    ex = Explainer(
        at_position(rnn, 100),
        row[None].repeat(2, 1),
        mode="local",
        representation="tokens",
        outputs="logits",
        n_samples=20,
        progress=False,
    )
    assert ex.explain(row[None]).values.shape == (1, 200)  # ids in a tensor: taken
    from scrutiny.models import ModelError

    with pytest.raises(ModelError, match=r"byte ids are whole numbers 0\.\.256") as refused:
        ex.explain(np.full((1, 200), 300))
    assert "encoder.wrap" not in str(refused.value)  # no text pipeline's hint for bytes
