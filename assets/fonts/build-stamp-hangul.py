# Builds CofferStampHangul.ttf, the font a PDF stamp is set in when the
# user's name or device has Korean Hangul, which CofferStampSans lacks (see
# README.md): NanumGothic Bold with the Latin, punctuation and Hangul a
# stamp line needs, renamed as the Reserved Font Name of Nanum's OFL asks
# of a modified font. No Hanja: a name written in them alone is set in
# CofferStampSans, and one mixing them with Hangul is refused (a letter is
# named), which kept 1.2 MB out of every binary.
#
# usage: build-stamp-hangul.py NanumGothicBold.ttf OUT.ttf
import sys

from fontTools import subset
from fontTools.ttLib import TTFont


def rng(*pairs):
    u = []
    for a, b in pairs:
        u += range(a, b + 1)
    return u


src, out = sys.argv[1:3]
f = TTFont(src, recalcTimestamp=False)
opts = subset.Options()
opts.layout_features = ['*']
opts.name_IDs = ['*']
opts.notdef_outline = True
opts.glyph_names = False
opts.hinting = False
opts.legacy_kern = False
s = subset.Subsetter(opts)
s.populate(unicodes=rng((0x20, 0x7e), (0xa0, 0x17f), (0x2000, 0x206f), (0x20a0, 0x20cf),
                        (0x1100, 0x11ff), (0x3000, 0x303f), (0x3130, 0x318f), (0xa960, 0xa97f),
                        (0xac00, 0xd7a3), (0xd7b0, 0xd7ff), (0xff00, 0xffef)))
s.subset(f)
for t in ('TSI0', 'TSI1', 'TSI2', 'TSI3', 'TSI5'):
    if t in f:
        del f[t]
for rec in list(f['name'].names):
    if rec.nameID in (1, 4, 16, 21):
        rec.string = 'Coffer Stamp Hangul'
    elif rec.nameID in (6, 20):
        rec.string = 'CofferStampHangul'
    elif rec.nameID == 3:
        rec.string = 'Coffer Stamp Hangul 1'
f.save(out, reorderTables=True)
