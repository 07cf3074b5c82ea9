"""`posterm font build`: the board's CJK bitmap font and GB2312 table, from the characters
the menus, strings, response texts, lessons and firmware literals use."""
