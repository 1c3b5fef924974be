# Builds the fonts text previews add to Go Mono and CofferStampSans, and
# that the screen watermark adds for Korean (see README.md):
#
#   CofferTextSans.ttf  DejaVu Sans (regular), the scripts and symbols Go
#                       Mono lacks: Hebrew, Arabic, Vietnamese, box
#                       drawing, control pictures, U+FFFD ...
#   CofferHangul.ttf    NanumGothic (regular), Hangul syllables and jamo
#   CofferEmoji.ttf     Noto Color Emoji, the emoji at U+1F000 and above
#                       and those DejaVu Sans lacks (one code point each,
#                       no sequences), and a blank space; bitmaps
#                       scaled from 109 to 32 pixels per em, 64 colours
#
# usage: build-text-fonts.py DejaVuSans.ttf NanumGothic.ttf NotoColorEmoji.ttf OUTDIR
import io
import os
import sys

from fontTools import subset
from fontTools.ttLib import TTFont
from PIL import Image


def rng(*pairs):
    u = []
    for a, b in pairs:
        u += range(a, b + 1)
    return u


def options(layout=True):
    opts = subset.Options()
    opts.layout_features = ['*'] if layout else []
    opts.name_IDs = ['*']
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.hinting = False
    opts.legacy_kern = False
    return opts


def rename(font, family, postscript):
    for rec in list(font['name'].names):
        if rec.nameID in (1, 4, 16, 21):
            rec.string = family
        elif rec.nameID in (6, 20):
            rec.string = postscript
        elif rec.nameID == 3:
            rec.string = family + ' 1'


def text_sans(src, out):
    f = TTFont(src)
    unicodes = rng((0x20, 0x7e), (0xa0, 0x52f), (0x590, 0x5ff), (0x600, 0x6ff), (0x750, 0x77f),
                   (0x1e00, 0x1fff), (0x2000, 0x2bff), (0x2c60, 0x2c7f), (0xa720, 0xa7ff),
                   (0xfb00, 0xfb4f), (0xfb50, 0xfdff), (0xfe70, 0xfeff), (0xfff0, 0xfffd))
    s = subset.Subsetter(options())
    s.populate(unicodes=unicodes)
    s.subset(f)
    if 'MATH' in f:
        del f['MATH']
    rename(f, 'Coffer Text Sans', 'CofferTextSans')
    f.save(out)


def hangul(src, out):
    f = TTFont(src)
    s = subset.Subsetter(options())
    s.populate(unicodes=rng((0x20, 0x20), (0x1100, 0x11ff), (0x3130, 0x318f), (0xa960, 0xa97f),
                            (0xac00, 0xd7a3), (0xd7b0, 0xd7ff)))
    s.subset(f)
    for t in ('TSI0', 'TSI1', 'TSI2', 'TSI3', 'TSI5'):
        if t in f:
            del f[t]
    rename(f, 'Coffer Hangul', 'CofferHangul')
    f.save(out)


def emoji(src, out, text, ppem=32, colours=64):
    f = TTFont(src)
    # Emoji from U+1F000 on, and the older symbols (U+2705 ✅, U+274C ❌)
    # that DejaVu Sans has no glyph for: DejaVu's own stay in text style.
    have = TTFont(text).getBestCmap()
    keep = [c for c in f.getBestCmap() if c >= 0x1f000 or (c >= 0x2000 and c not in have)]
    s = subset.Subsetter(options(layout=False))
    s.populate(unicodes=keep)
    s.subset(f)
    # A space, so that the spaces between emoji, which stay in the emoji's
    # run when shaped, have a glyph: a blank quarter em.
    order = f.getGlyphOrder()
    order.append('space')
    f.setGlyphOrder(order)
    f['hmtx'].metrics['space'] = (f['head'].unitsPerEm // 4, 0)
    if 'vmtx' in f:
        f['vmtx'].metrics['space'] = (f['head'].unitsPerEm, 0)
    for t in f['cmap'].tables:
        if t.isUnicode():
            t.cmap[0x20] = 'space'
    f['maxp'].numGlyphs = len(order)
    strike = f['CBLC'].strikes[0]
    size = strike.bitmapSizeTable
    k = ppem / size.ppemY
    for g in f['CBDT'].strikeData[0].values():
        im = Image.open(io.BytesIO(g.imageData)).convert('RGBA')
        w, h = max(1, round(im.width * k)), max(1, round(im.height * k))
        im = im.resize((w, h), Image.LANCZOS).quantize(colors=colours, method=Image.Quantize.FASTOCTREE)
        b = io.BytesIO()
        im.save(b, 'PNG', optimize=True)
        g.imageData = b.getvalue()
        m = g.metrics
        m.width, m.height = w, h
        m.BearingX = round(m.BearingX * k)
        m.BearingY = round(m.BearingY * k)
        m.Advance = round(m.Advance * k)
    for line in (size.hori, size.vert):
        for attr in ('ascender', 'descender', 'widthMax', 'maxBeforeBL', 'minAfterBL',
                     'minOriginSB', 'minAdvanceSB'):
            setattr(line, attr, round(getattr(line, attr) * k))
    size.ppemX = size.ppemY = ppem
    rename(f, 'Coffer Emoji', 'CofferEmoji')
    f.save(out)


dejavu, nanum, noto, outdir = sys.argv[1:5]
text_sans(dejavu, os.path.join(outdir, 'CofferTextSans.ttf'))
hangul(nanum, os.path.join(outdir, 'CofferHangul.ttf'))
emoji(noto, os.path.join(outdir, 'CofferEmoji.ttf'), dejavu)
