

def test_wifi_options_become_the_board_config():
    from posterm.flash.build import deploy_tree
    from posterm.flash.cli import wifi_config

    import json

    import pytest

    assert wifi_config(None, None) is None
    cfg = wifi_config("shop:secret", "192.168.1.10:5800")
    assert cfg == {"wifi": {"ssid": "shop", "password": "secret", "host": "192.168.1.10:5800"}}
    with pytest.raises(ValueError):
        wifi_config("shop", None)
    with pytest.raises(ValueError):
        wifi_config("shop", "nohostport")
    tree = deploy_tree("esp32", 6, config=cfg)
    assert json.loads(tree["/board.json"]) == {"board": "esp32", **cfg}


def test_the_board_profile_comes_from_what_the_board_says():
    import pytest

    from posterm.flash.device import FlashError
    from posterm.flash.flasher import board_for

    pico_w = {"platform": "rp2", "machine": "Raspberry Pi Pico W with RP2040"}
    esp = {"platform": "esp32", "machine": "Generic ESP32 module with ESP32"}
    pico = {"platform": "rp2", "machine": "Raspberry Pi Pico with RP2040"}
    assert board_for(pico, None) == "pico"
    assert board_for(pico_w, None) == "pico_w"
    assert board_for(esp, None) == "esp32"
    assert board_for(pico_w, "pico") == "pico"  # a Pico W may run the plain Pico profile
    with pytest.raises(FlashError) as e:
        board_for(esp, "pico")
    assert "use --board esp32" in e.value.hint
    with pytest.raises(FlashError) as e:
        board_for({"platform": "webassembly", "machine": ""}, None)
    assert "--board" in e.value.hint
    assert board_for({"platform": "webassembly", "machine": ""}, "pico") == "pico"


def test_the_freeze_manifest_names_the_firmware_packages():
    # firmware/manifest.py is MicroPython's manifest format (exec'd by makemanifest.py with
    # include/package/module in scope); the packages it freezes exist and are the firmware's
    import pathlib

    fw = pathlib.Path(__file__).resolve().parent.parent / "firmware"
    calls = []
    scope = {
        "include": lambda path, **kw: calls.append(("include", path)),
        "package": lambda name, **kw: calls.append(("package", name, kw)),
        "module": lambda name, **kw: calls.append(("module", name)),
    }
    exec(compile((fw / "manifest.py").read_text(), "manifest.py", "exec"), scope)
    assert ("include", "$(PORT_DIR)/boards/manifest.py") in calls
    packages = [c[1] for c in calls if c[0] == "package"]
    assert packages == ["pos", "boards"]
    for name in packages:
        assert (fw / name / "__init__.py").is_file(), name
