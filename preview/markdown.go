package preview

import (
	"fmt"
	"image/color"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	gtext "github.com/yuin/goldmark/text"

	"github.com/coffer-vault/coffer/internal/textshape"
)

// Markdown is parsed with goldmark (CommonMark, with GitHub's tables,
// strikethrough, task lists and bare links) and set as formatted text on
// A4 pages: headings, paragraphs with bold, italic, code and links,
// lists, block quotes, code blocks, tables and rules. Nothing it names is
// fetched (an image shows as its description) and raw HTML shows as
// text, never interpreted.
const (
	// mdMaxBytes bounds the Markdown laid out as such; a longer file is
	// shown as plain text (it is laid out whole, to know its pages).
	// 256 KiB: goldmark's inline parsing of a paragraph is quadratic in
	// the worst case ("[a]" on 65,536 lines: 1.1 s for 256 KiB, 17 s for
	// 1 MiB).
	mdMaxBytes = 256 << 10
	// mdMaxLine bounds the longest line of Markdown laid out as such.
	// goldmark's inline parser rescans a line for each link it opens and
	// does not close ("[a](" repeated: 1 MiB on one line took 200 s); with
	// lines of at most 8 KiB the worst measured was 1 s for 1 MiB.
	mdMaxLine = 8 << 10
	// mdMaxPages bounds the pages of a Markdown preview: a last line says
	// what was left out.
	mdMaxPages = 1000
	// mdMaxDepth bounds the nesting of quotes and lists set as such; what
	// is nested deeper is set as plain paragraphs.
	mdMaxDepth = 16
	mdBody     = 11.0 // pt
	mdCode     = 9.5  // pt
	mdLead     = 1.3  // line height, in ems
	mdIndent   = 18.0 // pt per list or quote level
)

var (
	mdInk      = color.RGBA{R: 32, G: 32, B: 32, A: 255}
	mdGrey     = color.RGBA{R: 96, G: 96, B: 96, A: 255}
	mdLink     = color.RGBA{R: 11, G: 92, B: 173, A: 255}
	mdCodeBack = color.RGBA{R: 242, G: 242, B: 242, A: 255}
	mdRule     = color.RGBA{R: 208, G: 208, B: 208, A: 255}
	mdHeadBack = color.RGBA{R: 236, G: 236, B: 236, A: 255}
)

// openMarkdown decodes data (as text: any encoding) and lays it out.
func openMarkdown(data []byte, opts Options) (Document, error) {
	data, cut, sp := head(data)
	text, _ := decodeText(data)
	if len(text) > mdMaxBytes {
		return openLines(fmt.Sprintf("(shown as plain text: a Markdown preview formats at most %s)\n",
			humanize.IBytes(mdMaxBytes))+text+"\n"+cut, sp, opts)
	}
	if longestLine(text) > mdMaxLine {
		return openLines(fmt.Sprintf("(shown as plain text: a Markdown preview formats lines of at most %s)\n",
			humanize.IBytes(mdMaxLine))+text+"\n"+cut, sp, opts)
	}
	fonts, err := textFonts(opts.Text)
	if err != nil {
		return nil, err
	}
	src := []byte(text)
	root := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(gtext.NewReader(src))
	l := &mdLayout{src: src, m: newMeasurer(fonts.shaper), left: margin, right: pageW - margin}
	l.newPage()
	l.block(root, 0)
	if cut != "" {
		l.paragraph([]span{{text: cut, style: styleItalic, color: mdGrey}}, mdBody)
	}
	return &laidDoc{w: pageW, h: pageH, pages: l.pages, shaper: fonts.shaper, maxPixels: opts.MaxPixels}, nil
}

// span is a piece of inline text in one style.
type span struct {
	text   string
	style  int
	color  color.RGBA
	code   bool // on a grey ground, a little smaller (Go Mono's letters are larger than Carlito's)
	strike bool
	brk    bool // a hard line break (text is empty)
}

// mdLayout lays out blocks top to bottom, page after page.
type mdLayout struct {
	src         []byte
	m           *measurer
	pages       [][]drawOp
	y           float64 // top of the next line, points
	left, right float64 // the text column, points
	quotes      []float64
	marker      *drawOp // a list item's marker, drawn with the item's first line
	lists       int     // how many lists enclose the block being laid out
	full        bool    // mdMaxPages reached: nothing more is laid out
}

func (l *mdLayout) newPage() {
	if len(l.pages) == mdMaxPages {
		if !l.full {
			l.full = true
			last := &l.pages[len(l.pages)-1]
			*last = append(*last, drawOp{text: fmt.Sprintf("… the rest not shown: a Markdown preview shows at most %d pages", mdMaxPages),
				style: styleItalic, size: mdBody, color: mdGrey, x: margin, y: pageH - margin/2})
		}
		return
	}
	l.pages = append(l.pages, nil)
	l.y = margin
}

func (l *mdLayout) emit(op drawOp) {
	if !l.full {
		l.pages[len(l.pages)-1] = append(l.pages[len(l.pages)-1], op)
	}
}

// room starts a new page unless h more points fit on this one.
func (l *mdLayout) room(h float64) {
	if l.y+h > pageH-margin && l.y > margin {
		l.newPage()
	}
}

// space adds vertical space, except at the top of a page.
func (l *mdLayout) space(pt float64) {
	if l.y > margin {
		l.y = min(l.y+pt, pageH-margin)
	}
}

// block lays out n and its children.
func (l *mdLayout) block(n ast.Node, depth int) {
	if l.full {
		return
	}
	if depth > mdMaxDepth {
		l.paragraph([]span{{text: plainText(n, l.src), style: styleRegular, color: mdInk}}, mdBody)
		return
	}
	switch n := n.(type) {
	case *ast.Heading:
		size := [...]float64{20, 16, 13.5, 12, 11, 11}[min(max(n.Level, 1), 6)-1]
		l.space(size * 0.8)
		l.room(size*mdLead*2 + mdBody*mdLead) // keep a heading with what follows
		spans := l.inlines(n, span{style: styleBold, color: mdInk})
		if n.Level == 6 {
			for i := range spans {
				spans[i].color = mdGrey
			}
		}
		l.lines(spans, size)
		if n.Level <= 2 {
			l.emit(fill(rectPt{l.left, l.y + 2, l.right, l.y + 2.8}, mdRule))
			l.y += 3
		}
		l.y += size * 0.35
	case *ast.Paragraph:
		l.paragraph(l.inlines(n, span{style: styleRegular, color: mdInk}), mdBody)
	case *ast.TextBlock: // a tight list item's text
		l.lines(l.inlines(n, span{style: styleRegular, color: mdInk}), mdBody)
	case *ast.ThematicBreak:
		l.space(6)
		l.room(8)
		l.emit(fill(rectPt{l.left, l.y + 3, l.right, l.y + 4}, mdRule))
		l.y += 10
	case *ast.CodeBlock:
		l.code(n.Lines(), mdInk)
	case *ast.FencedCodeBlock:
		l.code(n.Lines(), mdInk)
	case *ast.HTMLBlock:
		l.code(n.Lines(), mdGrey)
	case *ast.Blockquote:
		l.quotes = append(l.quotes, l.left)
		l.left += mdIndent * 0.8
		l.children(n, depth)
		l.left -= mdIndent * 0.8
		l.quotes = l.quotes[:len(l.quotes)-1]
	case *ast.List:
		l.list(n, depth)
	case *extast.Table:
		l.table(n)
	default:
		l.children(n, depth)
	}
}

func (l *mdLayout) children(n ast.Node, depth int) {
	for c := n.FirstChild(); c != nil && !l.full; c = c.NextSibling() {
		l.block(c, depth+1)
	}
}

// list lays out a list's items, each with its bullet or number.
func (l *mdLayout) list(n *ast.List, depth int) {
	num := n.Start
	bullet := [...]string{"•", "◦", "▪"}[l.lists%3]
	l.lists++
	defer func() { l.lists-- }()
	l.left += mdIndent
	for item := n.FirstChild(); item != nil && !l.full; item = item.NextSibling() {
		mark := bullet
		if n.IsOrdered() {
			mark = fmt.Sprintf("%d%c", num, n.Marker)
			num++
		}
		w := l.m.width(mark, styleRegular, mdBody)
		l.marker = &drawOp{text: mark, style: styleRegular, size: mdBody, color: mdInk, x: l.left - 5 - w}
		l.children(item, depth)
		l.marker = nil
		if !n.IsTight {
			l.space(3)
		}
	}
	l.left -= mdIndent
	l.space(4)
}

// paragraph lays out spans as a paragraph: lines, then space after.
func (l *mdLayout) paragraph(spans []span, size float64) {
	l.lines(spans, size)
	l.y += size * 0.55
}

// lines lays out spans in lines of the column's width.
func (l *mdLayout) lines(spans []span, size float64) {
	dir := textshape.DirOf(spansText(spans))
	for _, ln := range l.wrap(spans, size, l.right-l.left) {
		l.line(ln, size, l.left, l.right-l.left, extast.AlignLeft, dir, rectPt{})
	}
}

// line places one wrapped line at the next y, starting a page if it must.
func (l *mdLayout) line(ln mdLine, size, x0, width float64, align extast.Alignment, dir textshape.Dir, clip rectPt) {
	lead := size * mdLead
	l.room(lead)
	base := l.y + size*1.0
	l.quoteBars(l.y, l.y+lead)
	if l.marker != nil {
		m := *l.marker
		m.y = base
		l.emit(m)
		l.marker = nil
	}
	l.place(ln, x0, base, width, size, align, dir, clip)
	l.y += lead
}

// quoteBars draws the bar of every enclosing block quote beside a line.
func (l *mdLayout) quoteBars(top, bottom float64) {
	for _, x := range l.quotes {
		l.emit(fill(rectPt{x, top, x + 2.5, bottom}, mdRule))
	}
}

// code lays out the lines of a code block in Go Mono on a grey ground,
// wrapped at the column's width.
func (l *mdLayout) code(lines *gtext.Segments, ink color.RGBA) {
	l.space(2)
	cols := max(8, int((l.right-l.left-8)/(mdCode*cellEm)))
	lead := mdCode * 1.35
	for i := 0; i < lines.Len() && !l.full; i++ {
		seg := lines.At(i)
		text := strings.TrimRight(strings.ReplaceAll(string(seg.Value(l.src)), "\t", "    "), "\r\n")
		for _, part := range wrap(visible(text), cols) {
			l.room(lead)
			l.emit(fill(rectPt{l.left, l.y, l.right, l.y + lead}, mdCodeBack))
			l.quoteBars(l.y, l.y+lead)
			l.emit(drawOp{text: part, style: styleMono, size: mdCode, color: ink, x: l.left + 4, y: l.y + mdCode*1.05,
				dir: textshape.LeftToRight})
			l.y += lead
		}
	}
	l.y += mdBody * 0.55
}

// inlines collects n's inline content as spans, starting in style st.
func (l *mdLayout) inlines(n ast.Node, st span) []span {
	var out []span
	var walk func(n ast.Node, st span, depth int)
	walk = func(n ast.Node, st span, depth int) {
		if depth > 64 {
			out = append(out, span{text: plainText(n, l.src), style: st.style, color: st.color})
			return
		}
		switch n := n.(type) {
		case *ast.Text:
			s := st
			s.text = string(n.Segment.Value(l.src))
			out = append(out, s)
			switch {
			case n.HardLineBreak():
				out = append(out, span{brk: true})
			case n.SoftLineBreak():
				out = append(out, span{text: " ", style: st.style, color: st.color})
			}
			return
		case *ast.String:
			s := st
			s.text = string(n.Value)
			out = append(out, s)
			return
		case *ast.CodeSpan:
			out = append(out, span{text: plainText(n, l.src), style: styleMono, color: st.color, code: true, strike: st.strike})
			return
		case *ast.AutoLink:
			s := st
			s.text, s.color = string(n.Label(l.src)), mdLink
			out = append(out, s)
			return
		case *ast.Image:
			out = append(out, span{text: "[image: " + plainText(n, l.src) + "]", style: styleItalic, color: mdGrey})
			return
		case *ast.RawHTML:
			var b strings.Builder
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				b.Write(seg.Value(l.src))
			}
			out = append(out, span{text: b.String(), style: styleMono, color: mdGrey})
			return
		case *extast.TaskCheckBox:
			box := "☐ "
			if n.IsChecked {
				box = "☑ "
			}
			out = append(out, span{text: box, style: st.style, color: st.color})
			return
		case *ast.Emphasis:
			bold, italic := st.style == styleBold || st.style == styleBoldItalic, st.style == styleItalic || st.style == styleBoldItalic
			if n.Level >= 2 {
				bold = true
			} else {
				italic = true
			}
			st.style = styleOf(bold, italic)
		case *ast.Link:
			st.color = mdLink
		case *extast.Strikethrough:
			st.strike = true
		}
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			walk(c, st, depth+1)
		}
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		walk(c, st, 0)
	}
	return out
}

// plainText returns the text of n's subtree, without markup, walking it
// without recursion (it is what deeply nested input is reduced to).
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	stack := []ast.Node{n}
	for len(stack) > 0 && b.Len() < mdMaxBytes {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		}
		if c.Type() == ast.TypeBlock && c.Lines() != nil {
			for i := 0; i < c.Lines().Len() && c.FirstChild() == nil; i++ {
				seg := c.Lines().At(i)
				b.Write(seg.Value(src))
			}
		}
		var kids []ast.Node
		for k := c.FirstChild(); k != nil; k = k.NextSibling() {
			kids = append(kids, k)
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func spansText(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString(s.text)
	}
	return b.String()
}

// longestLine returns the length in bytes of text's longest line.
func longestLine(text string) int {
	longest := 0
	for line := range strings.Lines(text) {
		longest = max(longest, len(line))
	}
	return longest
}
