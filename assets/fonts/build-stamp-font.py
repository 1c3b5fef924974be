import sys
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from fontTools.merge import Merger

def sub(path, unicodes, out, upem=None):
    f = TTFont(path)
    opts = subset.Options()
    opts.layout_features = ['*']
    opts.name_IDs = ['*']
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.hinting = False
    opts.legacy_kern = False
    s = subset.Subsetter(opts)
    s.populate(unicodes=unicodes)
    s.subset(f)
    if upem:
        scale_upem(f, upem)
        # Vertical metrics and the vertical-forms feature only matter to
        # vertical text; the merger cannot merge them with a font lacking them.
        for t in ('vhea', 'vmtx', 'GSUB', 'GPOS', 'GDEF'):
            if t in f:
                del f[t]
    f.save(out)

def rng(*pairs):
    u = []
    for a, b in pairs:
        u += range(a, b + 1)
    return u

latin = rng((0x20, 0x7e), (0xa0, 0x36f), (0x370, 0x3ff), (0x400, 0x52f), (0x590, 0x5ff), (0x600, 0x6ff), (0x750, 0x77f),
            (0x1e00, 0x1fff), (0x2000, 0x206f), (0x20a0, 0x20cf), (0x2100, 0x214f), (0xfb1d, 0xfb4f), (0xfb50, 0xfdff), (0xfe70, 0xfeff))
cjk = rng((0x2e80, 0x2fdf), (0x3000, 0x30ff), (0x3100, 0x312f), (0x31f0, 0x31ff), (0x3400, 0x4dbf), (0x4e00, 0x9fff), (0xf900, 0xfaff), (0xff00, 0xffef))
sub(sys.argv[1], latin, 'a.ttf')
sub(sys.argv[2], cjk, 'b.ttf', upem=2048)
m = Merger()
font = m.merge(['a.ttf', 'b.ttf'])
name = font['name']
for rec in list(name.names):
    if rec.nameID in (1, 4, 16, 21):
        rec.string = 'Coffer Stamp Sans'
    elif rec.nameID in (6, 20):
        rec.string = 'CofferStampSans'
    elif rec.nameID == 3:
        rec.string = 'Coffer Stamp Sans 1'
font.save(sys.argv[3])
