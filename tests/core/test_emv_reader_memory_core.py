# A MemoryError while the card answers (the virtual card runs in the terminal's heap) is the
# terminal's: it is not a chip that failed (which counts toward the fallback to the swipe, or
# after an approval makes the card "refuse" it and reverses the sale).
from mptest import eq, raises
from pos.emv import apdu


class _Icc:
    def __init__(self, exc):
        self.exc = exc

    def apdu(self, cmd):
        raise self.exc


def test_a_memory_error_in_the_card_is_not_a_chip_error():
    with raises(MemoryError):
        apdu.exchange(_Icc(MemoryError("memory allocation failed")), b"\x00\xa4\x04\x00\x00")
    with raises(apdu.ChipError) as caught:
        apdu.exchange(_Icc(OSError(5)), b"\x00\xa4\x04\x00\x00")
    eq(str(caught.value).startswith("reader:"), True)
