# EMV / PBOC 3.0 building blocks (issue 13): BER-TLV (tlv), card keys and cryptograms
# (crypto) and a virtual chip card answering APDUs (card). The terminal does not use them
# yet: the kernel and field 55 come next.
