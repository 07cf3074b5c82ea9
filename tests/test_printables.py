"""Printed pages (issue 15 item 7): every lesson's handout is one A4 page with lines for the
trainee's name, the date and the trainer's sign-off, and the menu map is a one-page wall
poster with Chinese headings by default; page counts from headless Chromium's PDF."""

import re

import pytest

import chromium_pages
from posterm.cli import main
from posterm.lessons import export, model


@pytest.fixture(scope="module")
def handouts(tmp_path_factory):
    """Every lesson's handout built, and printed to PDF by one headless Chromium:
    {name: (html text, pdf path)}."""
    tmp = tmp_path_factory.mktemp("handouts")
    built, pairs = {}, []
    for name in model.names():
        page = tmp / f"{name}.html"
        html = export.build(model.load(name), str(tmp / "data"), "html")
        page.write_text(html, encoding="utf-8")
        built[name] = (page.read_text(encoding="utf-8"), tmp / f"{name}.pdf")
        pairs.append((page, tmp / f"{name}.pdf"))
    chromium_pages.print_pdfs(pairs)
    return built


@pytest.mark.parametrize("name", model.names())
def test_every_handout_prints_on_one_page_with_sign_off_lines(handouts, name):
    text, pdf = handouts[name]
    assert re.search(
        r"学员姓名: <span></span>.*日期: <span></span>.*培训师签字: <span></span>", text
    )
    assert chromium_pages.pdf_pages(pdf) == 1


def test_the_english_handout_has_english_sign_off_lines(tmp_path):
    text = export.build(model.load("04"), str(tmp_path), "html", lang="en")
    assert "Trainee: <span></span>" in text and "Trainer&#x27;s sign-off" in text


@pytest.mark.parametrize(
    "lang, title, group",
    [
        ("zh", "POS 终端功能速查", "1. 金融服务"),
        ("en", "POS terminal quick reference", "1. Financial"),
    ],
)
def test_the_menu_map_poster_is_one_page_with_every_function(tmp_path, capsys, lang, title, group):
    argv = ["menu", "map", "--format", "html"] + (["--lang", lang] if lang != "zh" else [])
    assert main(argv) == 0
    poster = capsys.readouterr().out
    assert main(["menu", "map"] + (["--lang", lang] if lang != "zh" else [])) == 0
    functions = [ln.split(":", 1)[0] for ln in capsys.readouterr().out.splitlines()]
    assert poster.startswith("<!doctype html>") and title in poster and group in poster
    for f in functions:
        assert f">{f}<" in poster or f">{f} <" in poster, f
    page = tmp_path / "poster.html"
    page.write_text(poster, encoding="utf-8")
    assert chromium_pages.pdf_pages(chromium_pages.print_pdf(page, tmp_path / "p.pdf")) == 1
