# pos.emv.tlv: BER-TLV as EMV writes it (Book 3 Annex B) and data object lists.
from mptest import eq, raises, true
from pos.emv import tlv

H = bytes.fromhex
# an application's FCI as a CUP card answers SELECT: 6F { 84 AID, A5 { 50, 87, 9F38 } }
FCI = H("6F1F" "8408A000000333010101" "A513" "5008556E696F6E506179" "870101" "9F38039F7A01")


def test_decodes_one_byte_and_multi_byte_tags_in_order():
    eq(tlv.decode(H("9C01005F2A0201569F0206000000001234")),
       [(0x9C, H("00")), (0x5F2A, H("0156")), (0x9F02, H("000000001234"))])


def test_three_byte_tag_round_trips_and_a_fourth_byte_is_refused():
    eq(tlv.decode(H("DF810102ABCD")), [(0xDF8101, H("ABCD"))])
    eq(tlv.encode(0xDF8101, H("ABCD")), H("DF810102ABCD"))
    with raises(tlv.TlvError, match="longer than 3") as caught:
        tlv.decode(H("9C0100DF81818101AA"))
    eq(caught.value.offset, 3)


def test_long_lengths_81_82_83_are_read_and_written():
    for n, head in ((0x7F, "7F"), (0x80, "8180"), (0xFF, "81FF"), (0x100, "820100"),
                    (0x10000, "83010000")):
        value = bytes(n)
        enc = tlv.encode(0x70, value)
        eq(enc[: 1 + len(head) // 2], H("70" + head), "length %d" % n)
        eq(tlv.decode(enc), [(0x70, value)])


def test_indefinite_and_over_long_lengths_are_refused_naming_tag_and_offset():
    with raises(tlv.TlvError, match="indefinite") as caught:
        tlv.decode(H("9C0100708000"))
    eq(caught.value.tag, 0x70)
    eq(caught.value.offset, 4)
    with raises(tlv.TlvError, match="not supported"):
        tlv.decode(H("70840000000100"))


def test_truncated_data_names_the_tag_and_where_it_starts():
    with raises(tlv.TlvError, match="runs past the end") as caught:
        tlv.decode(H("9C01015F2A0301"))
    eq(caught.value.tag, 0x5F2A)
    eq(caught.value.offset, 3)
    for bad in ("9F", "9F02", "5F2A8201", "9C"):
        with raises(tlv.TlvError):
            tlv.decode(H(bad))
    with raises(tlv.TlvError, match="must be bytes"):
        tlv.decode("9C0100")


def test_zero_bytes_between_objects_are_padding():
    eq(tlv.decode(H("00009C01010000")), [(0x9C, H("01"))])


def test_constructed_templates_are_walked_and_flattened():
    true(tlv.constructed(0x6F) and tlv.constructed(0xA5) and tlv.constructed(0x70))
    true(tlv.constructed(0x77) and tlv.constructed(0xBF0C) and not tlv.constructed(0x9F38))
    got = tlv.walk(FCI)
    eq([(t, d) for t, _, d in got], [(0x6F, 0), (0x84, 1), (0xA5, 1), (0x50, 2), (0x87, 2),
                                     (0x9F38, 2)])
    flat = tlv.flatten(FCI)
    eq(flat[0x84], H("A000000333010101"))
    eq(flat[0x50], b"UnionPay")
    eq(flat[0x9F38], H("9F7A01"))
    eq(tlv.find(FCI, 0x87), H("01"))
    eq(tlv.find(FCI, 0x9F26), None)


def test_a_broken_template_inside_is_found_by_walk_not_by_decode():
    bad = H("7005" "5A08123456")  # 70 holds a 5A that claims 8 bytes
    eq(tlv.decode(bad), [(0x70, H("5A08123456"))])
    with raises(tlv.TlvError) as caught:
        tlv.walk(bad)
    eq(caught.value.tag, 0x5A)
    eq(caught.value.offset, 2)


def test_pick_takes_the_first_of_each_tag_anywhere_and_checks_the_whole_tree_as_walk():
    # the kernel's reading of the FCI, the GPO answer and the records (nothing else copied)
    eq(tlv.pick(FCI, (0x84, 0x9F38, 0x9F26)), {0x84: H("A000000333010101"), 0x9F38: H("9F7A01")})
    flat = tlv.flatten(FCI)
    eq(tlv.pick(FCI, tuple(flat)), flat)
    twice = H("70085A02") + H("1234") + H("5A025678")
    kept = {0x5A: H("0000")}
    eq(tlv.pick(twice, (0x5A,)), {0x5A: H("1234")})
    eq(tlv.pick(twice, (0x5A,), kept), {0x5A: H("0000")})  # one already there is kept
    bad = H("7005" "5A08123456")
    with raises(tlv.TlvError) as caught:
        tlv.pick(bad, (0x9F26,))  # not asked for, still checked
    eq((caught.value.tag, caught.value.offset), (0x5A, 2))
    deep = b""
    for _ in range(40):
        deep = tlv.encode(0x70, deep)
    with raises(tlv.TlvError, match="nested"):
        tlv.pick(deep, (0x5A,))
    with raises(tlv.TlvError, match="runs past the end"):
        tlv.pick(H("7003" "5A0212" "34"), (0x5A,))  # 5A runs past its template's end


def test_deep_nesting_is_refused_not_a_crash():
    data = b""
    for _ in range(40):
        data = tlv.encode(0x70, data)
    with raises(tlv.TlvError, match="nested"):
        tlv.walk(data)


def test_build_nests_lists_as_templates():
    built = tlv.build([(0x77, [(0x82, H("1C00")), (0x94, H("08010100"))])])
    eq(built, H("770A82021C00940408010100"))
    with raises(tlv.TlvError):
        tlv.encode(0, b"")


def test_dol_is_parsed_into_tags_and_lengths():
    cdol1 = H("9F02069F03069F1A0295055F2A029A039C019F3704")
    eq(tlv.parse_dol(cdol1), [(0x9F02, 6), (0x9F03, 6), (0x9F1A, 2), (0x95, 5),
                              (0x5F2A, 2), (0x9A, 3), (0x9C, 1), (0x9F37, 4)])
    eq(tlv.dol_length(cdol1), 29)
    with raises(tlv.TlvError):
        tlv.parse_dol(H("9F0206" "9F"))


def test_dol_data_pads_numbers_on_the_left_others_on_the_right_and_zeros_missing():
    dol = H("9F0206" "9F3704" "9F1A02" "9F4E04" "8404")
    values = {0x9F02: H("1234"), 0x9F37: H("0102030405"), 0x9F1A: H("0156"),
              0x9F4E: b"AB", 0x84: H("A000000333010101")}
    data = tlv.build_dol_data(dol, values)
    eq(data, H("000000001234" "01020304" "0156" "41420000" "A0000003"))
    eq(tlv.build_dol_data(dol, {}), bytes(20))
    eq(tlv.build_dol_data(H("9F0203"), {0x9F02: H("000000012345")}), H("012345"))


def test_dol_data_splits_back_and_a_wrong_length_is_an_error():
    dol = H("9F0206" "9C01")
    eq(tlv.split_dol_data(dol, H("00000000010000")), {0x9F02: H("000000000100"), 0x9C: H("00")})
    with raises(tlv.TlvError, match="asks for 7"):
        tlv.split_dol_data(dol, H("000000000100"))
