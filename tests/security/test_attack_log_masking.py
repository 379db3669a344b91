"""A customer who picks a display name made of common words must not blank those words out
of every log line (hiding tracebacks and URLs from the operators)."""

from __future__ import annotations

from bot.privacy.log_redaction import NAME_MASK, KnownNames


def test_a_name_made_of_common_words_masks_only_the_whole_name() -> None:
    names = KnownNames(["Traceback http"])
    line = "Traceback (most recent call last): GET http://127.0.0.1/status"
    assert names.mask(line) == line
    assert names.mask("message from Traceback http: hello") == f"message from {NAME_MASK}: hello"


def test_a_one_word_name_is_still_masked_as_a_whole_word() -> None:
    names = KnownNames(["Ana"])
    assert names.mask("Ana asked about banana bread") == f"{NAME_MASK} asked about banana bread"
