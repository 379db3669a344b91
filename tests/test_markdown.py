"""Light markdown: parsed once for every channel; long texts split where a reader would."""

from bot.responses.markdown import Span, parse, plain_text, split_text


def test_styles_links_and_lists_are_recognised() -> None:
    blocks = parse(
        "Let's fix it **together**:\n1. Check the _power_ light.\n- See [help](https://x.example/h)."
    )
    assert [b.kind for b in blocks] == ["paragraph", "numbered", "bullet"]
    assert Span("bold", "together") in blocks[0].spans
    assert blocks[1].number == 1 and Span("italic", "power") in blocks[1].spans
    assert Span("link", "help", "https://x.example/h") in blocks[2].spans


def test_a_customers_stray_markup_stays_plain_text() -> None:
    (block,) = parse("my_user_name has 2*3 issues * and _ too")
    assert block.spans == (Span("text", "my_user_name has 2*3 issues * and _ too"),)


def test_plain_text_keeps_link_targets() -> None:
    assert plain_text(parse("Go to [help](https://x.example)")) == "Go to help (https://x.example)"


def test_short_text_is_one_part() -> None:
    assert split_text("Hello there.", 4096) == ["Hello there."]


def test_long_text_splits_on_sentence_boundaries_within_the_limit() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(300))
    parts = split_text(text, 4096)
    assert len(parts) > 1
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text


def test_lines_are_kept_whole_when_they_fit() -> None:
    assert split_text("first line\nsecond line\nthird", 22) == ["first line\nsecond line", "third"]


def test_a_styled_span_is_not_cut_at_its_inner_sentence_end() -> None:
    text = "A" * 50 + ". **Do this. Then that.** Done."
    parts = split_text(text, 60)
    assert any("**Do this. Then that.**" in p for p in parts)


def test_an_overlong_word_is_cut_rather_than_dropped() -> None:
    parts = split_text("x" * 25, 10)
    assert "".join(parts) == "x" * 25 and all(len(p) <= 10 for p in parts)
