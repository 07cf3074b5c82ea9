"""Small things a user expects of the command line (issue 11 item 19): --version, and
`posterm iso decode` telling a script by its exit status that a MAC does not match."""

import subprocess
import sys

from pos import mac
from posterm import cli
import refframes  # tests/core/refframes.py: the reference's frames, one copy

# a 0200 with its MAC under MAK (tests/test_isotool.py)
MAK = "89ABCDEF01234567"
F_0200 = refframes.F_0200



def _with_good_mac():
    frame = bytes.fromhex(F_0200)
    body = frame[2 + 5 + 6 :]
    good = mac.compute("ecb", bytes.fromhex(MAK), body[:-8])
    return (frame[:-8] + good).hex()


def test_version_prints_the_package_version():
    out = subprocess.run([sys.executable, "-m", "posterm.cli", "--version"],
                         capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.strip() == "posterm " + cli.version()
    assert cli.version()[0].isdigit()


def test_iso_decode_exits_1_on_a_mac_mismatch(capsys):
    assert cli.main(["iso", "decode", F_0200, "--mak", "0123456789ABCDEF"]) == 1
    assert "MAC: MISMATCH" in capsys.readouterr().out


def test_iso_decode_exits_0_when_the_mac_matches(capsys):
    assert cli.main(["iso", "decode", _with_good_mac(), "--mak", MAK]) == 0
    assert "MAC: OK" in capsys.readouterr().out


def test_iso_decode_without_a_key_only_decodes(capsys):
    assert cli.main(["iso", "decode", F_0200]) == 0
    assert "MAC:" not in capsys.readouterr().out


def test_iso_decode_of_garbage_is_a_one_line_error(capsys):
    assert cli.main(["iso", "decode", "00ZZ"]) == 2
    assert capsys.readouterr().err.startswith("posterm: error:")


def test_the_emulators_recording_that_cannot_be_written_is_refused_before_the_session(
    tmp_path, capsys
):
    # it ran the whole session and said 'No such file or directory: .../x.jsonl.tmp' at the
    # end: the session the user reproduced was lost
    missing = tmp_path / "no" / "x.jsonl"
    rc = cli.main(["emulator", "--data", str(tmp_path / "d"), "--record", str(missing)])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"cannot write the recording {missing}: no directory {missing.parent}" in err
    rc = cli.main(["emulator", "--data", str(tmp_path / "d"), "--record", str(tmp_path)])
    assert rc == 2 and "is a directory" in capsys.readouterr().err
