

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
