package preview

import (
	"strings"
	"unicode"

	extast "github.com/yuin/goldmark/extension/ast"

	"github.com/coffer-vault/coffer/internal/textshape"
)

// token is a word of a wrapped line (or a wide letter: Chinese and
// Japanese break between any two), in its span's style.
type token struct {
	text  string
	sp    span
	space bool    // a space goes before it, unless it starts a line
	x, w  float64 // offset from the line's start, and advance, in points
}

// mdLine is one wrapped line.
type mdLine struct {
	toks []token
	w    float64
}

// tokens splits spans into words and wide letters, measured at size.
func (l *mdLayout) tokens(spans []span, size float64) []token {
	var out []token
	space := false
	for _, sp := range spans {
		if sp.brk {
			out = append(out, token{sp: sp})
			space = false
			continue
		}
		var word strings.Builder
		flush := func() {
			if word.Len() > 0 {
				out = append(out, token{text: word.String(), sp: sp, space: space,
					w: l.m.width(word.String(), sp.style, spanSize(sp, size))})
				word.Reset()
				space = false
			}
		}
		for _, r := range sp.text {
			switch {
			case unicode.IsSpace(r) && !sp.code:
				flush()
				space = true
			case cells(r) == 2:
				flush()
				word.WriteRune(r)
				flush()
			default:
				word.WriteRune(r)
			}
		}
		flush()
	}
	return out
}

// sameStyle reports whether two spans are set alike.
func sameStyle(a, b span) bool {
	return a.style == b.style && a.color == b.color && a.code == b.code && a.strike == b.strike
}

// spanSize is the size a span is set at in a line of size points.
func spanSize(sp span, size float64) float64 {
	if sp.code {
		return size * 0.88
	}
	return size
}

// wrap breaks spans into lines at most width points wide; a word wider
// than a line is cut between letters.
func (l *mdLayout) wrap(spans []span, size, width float64) []mdLine {
	var lines []mdLine
	var cur mdLine
	finish := func() {
		lines = append(lines, cur)
		cur = mdLine{}
	}
	for _, t := range l.tokens(spans, size) {
		if t.text == "" { // a hard break
			finish()
			continue
		}
		gap := 0.0
		if t.space && len(cur.toks) > 0 {
			gap = l.m.width(" ", t.sp.style, size)
		}
		if cur.w+gap+t.w > width && len(cur.toks) > 0 {
			finish()
			gap = 0
		}
		for t.w > width && len([]rune(t.text)) > 1 {
			head, rest := l.cut(t, size, width-cur.w-gap)
			head.x = cur.w + gap
			cur.toks = append(cur.toks, head)
			cur.w += gap + head.w
			finish()
			gap, t = 0, rest
		}
		t.x = cur.w + gap
		cur.toks = append(cur.toks, t)
		cur.w += gap + t.w
	}
	if len(cur.toks) > 0 || len(lines) == 0 {
		finish()
	}
	return lines
}

// cut splits a token into the longest head of at least one letter that
// fits in width points, and the rest.
func (l *mdLayout) cut(t token, size, width float64) (token, token) {
	runes := []rune(t.text)
	n := 1
	for n < len(runes) && l.m.width(string(runes[:n+1]), t.sp.style, spanSize(t.sp, size)) <= width {
		n++
	}
	head, rest := t, t
	head.text, rest.text = string(runes[:n]), string(runes[n:])
	head.w, rest.w = l.m.width(head.text, t.sp.style, spanSize(t.sp, size)), l.m.width(rest.text, t.sp.style, spanSize(t.sp, size))
	rest.space = false
	return head, rest
}

// place emits a wrapped line set at size points with its baseline at
// base, in a column from x0, width points wide, aligned as align (a right-to-left paragraph
// reads from the right: its words are placed mirrored); clip bounds its
// text when not empty. Words of one span next to each other are set
// together, so that they keep their kerning and ligatures.
func (l *mdLayout) place(ln mdLine, x0, base, width, size float64, align extast.Alignment, dir textshape.Dir, clip rectPt) {
	off := 0.0
	switch {
	case align == extast.AlignRight || (dir == textshape.RightToLeft && align != extast.AlignCenter):
		off = width - ln.w
	case align == extast.AlignCenter:
		off = (width - ln.w) / 2
	}
	for i := 0; i < len(ln.toks); {
		t := ln.toks[i]
		j, text, end := i+1, t.text, t.x+t.w
		for ; j < len(ln.toks) && sameStyle(ln.toks[j].sp, t.sp) && dir != textshape.RightToLeft; j++ {
			if ln.toks[j].space {
				text += " "
			}
			text += ln.toks[j].text
			end = ln.toks[j].x + ln.toks[j].w
		}
		x := x0 + off + t.x
		if dir == textshape.RightToLeft {
			x = x0 + off + (ln.w - end)
		}
		w := end - t.x
		if t.sp.code {
			l.emit(fill(rectPt{x - 1.5, base - size*0.95, x + w + 1.5, base + size*0.3}, mdCodeBack))
		}
		l.emit(drawOp{rect: clip, text: text, style: t.sp.style, size: spanSize(t.sp, size), color: t.sp.color, x: x, y: base, dir: dir})
		if t.sp.strike {
			l.emit(fill(rectPt{x, base - size*0.3, x + w, base - size*0.3 + 0.7}, t.sp.color))
		}
		i = j
	}
}

// table lays out a GitHub table: columns as wide as their text where the
// page allows, else shared out by how much text each holds; cells
// wrapped, aligned as the table says; the header row bold on grey, and
// repeated at the top of each page the table continues on.
func (l *mdLayout) table(t *extast.Table) {
	const pad, maxCols = 4.0, 64
	var rows [][][]span
	for r := t.FirstChild(); r != nil; r = r.NextSibling() {
		_, header := r.(*extast.TableHeader)
		var row [][]span
		for c := r.FirstChild(); c != nil && len(row) < maxCols; c = c.NextSibling() {
			st := span{style: styleRegular, color: mdInk}
			if header {
				st.style = styleBold
			}
			row = append(row, l.inlines(c, st))
		}
		rows = append(rows, row)
	}
	ncol := min(max(len(t.Alignments), 1), maxCols)
	natural, least := make([]float64, ncol), make([]float64, ncol)
	for _, row := range rows {
		for c, cell := range row[:min(len(row), ncol)] {
			w, widest := 0.0, 0.0
			for _, tk := range l.tokens(cell, mdBody) {
				if tk.space {
					w += l.m.width(" ", tk.sp.style, mdBody)
				}
				w += tk.w
				widest = max(widest, tk.w)
			}
			natural[c], least[c] = max(natural[c], w+2*pad), max(least[c], min(widest+2*pad, 120))
		}
	}
	widths := shareWidths(natural, least, l.right-l.left)
	lead := mdBody * mdLead
	type laidRow struct {
		lines  [][]mdLine
		height float64
		header bool
	}
	layout := func(row [][]span, header bool) laidRow {
		r := laidRow{header: header}
		for c := range ncol {
			var cell []span
			if c < len(row) {
				cell = row[c]
			}
			ln := l.wrap(cell, mdBody, widths[c]-2*pad)
			r.lines = append(r.lines, ln)
			r.height = max(r.height, float64(len(ln))*lead+2*pad)
		}
		return r
	}
	draw := func(r laidRow) {
		top, x := l.y, l.left
		if r.header {
			l.emit(fill(rectPt{l.left, top, l.left + sum(widths), top + r.height}, mdHeadBack))
		}
		for c, lines := range r.lines {
			align := extast.AlignLeft
			if c < len(t.Alignments) && t.Alignments[c] != extast.AlignNone {
				align = t.Alignments[c]
			}
			cell := rectPt{x, top, x + widths[c], top + r.height}
			for i, ln := range lines {
				l.place(ln, x+pad, top+pad+float64(i)*lead+mdBody, widths[c]-2*pad, mdBody, align, textshape.LeftToRight, cell)
			}
			l.emit(fill(rectPt{x, top, x + 0.6, top + r.height}, mdRule))
			x += widths[c]
		}
		l.emit(fill(rectPt{x - 0.6, top, x, top + r.height}, mdRule))
		l.emit(fill(rectPt{l.left, top, x, top + 0.6}, mdRule))
		l.y = top + r.height
	}
	bottom := func() { // the rule under the last row on a page
		l.emit(fill(rectPt{l.left, l.y - 0.6, l.left + sum(widths), l.y}, mdRule))
	}
	l.space(4)
	var header laidRow
	for i, row := range rows {
		if l.full {
			return
		}
		r := layout(row, i == 0)
		if i == 0 {
			header = r
		}
		if l.y+r.height > pageH-margin && l.y > margin {
			bottom()
			l.newPage()
			if i > 0 && !l.full {
				draw(header)
			}
		}
		draw(r)
	}
	bottom()
	l.y += mdBody * 0.8
}

// shareWidths gives columns their natural widths when they fit in avail,
// else at least their least widths (as far as avail allows) and the rest
// of avail in proportion to what more they would take.
func shareWidths(natural, least []float64, avail float64) []float64 {
	out := make([]float64, len(natural))
	if sum(natural) <= avail {
		copy(out, natural)
		return out
	}
	floor := sum(least)
	if floor >= avail {
		for i := range out {
			out[i] = least[i] * avail / floor
		}
		return out
	}
	want := sum(natural) - floor
	for i := range out {
		out[i] = least[i] + (avail-floor)*(natural[i]-least[i])/want
	}
	return out
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}
