package fsedit

import (
	"strconv"
	"strings"
)

// keyHelp is the status line's list of keys.
const keyHelp = "^Z Save  ^C Abort  ^Q Quote  ^L Redraw  ^Y Delete line"

// render returns what changed on the screen since the last output (all
// of it after a redraw), and the cursor's move to its place.
func (e *Editor) render() string {
	e.scroll()
	rows := e.frame()
	var b strings.Builder
	if e.shown == nil {
		b.WriteString("\x1b[0m\x1b[H\x1b[2J")
	}
	for i, r := range rows {
		if e.shown != nil && e.shown[i] == r {
			continue
		}
		b.WriteString("\x1b[")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(";1H")
		b.WriteString(r)
		b.WriteString("\x1b[K")
	}
	e.shown = rows
	b.WriteString("\x1b[")
	b.WriteString(strconv.Itoa(e.row - e.top + 2))
	b.WriteByte(';')
	line := e.lines[e.row]
	b.WriteString(strconv.Itoa(min(columns(line[:min(e.col, len(line))]), e.wrapAt()) + 1))
	b.WriteByte('H')
	return b.String()
}

// scroll keeps the cursor's line on the screen.
func (e *Editor) scroll() {
	if e.row < e.top {
		e.top = e.row
	}
	if e.row >= e.top+e.textRows() {
		e.top = e.row - e.textRows() + 1
	}
}

// frame is the screen as rows: the title, the text, the status line.
func (e *Editor) frame() []string {
	rows := make([]string, 0, e.height)
	title := e.opt.Title
	if title == "" {
		title = "Write your message"
	}
	rows = append(rows, bar(" "+title, e.wrapAt()))
	for i := range e.textRows() {
		n := e.top + i
		if n >= len(e.lines) {
			rows = append(rows, "")
			continue
		}
		line := e.lines[n]
		rows = append(rows, string(line[:fitting(line, e.wrapAt())]))
	}
	status := e.msg
	if status == "" {
		status = keyHelp
	}
	where := "  " + strconv.Itoa(e.row+1) + ":" + strconv.Itoa(e.col+1)
	rows = append(rows, bar(" "+status+where, e.wrapAt()))
	return rows
}

// bar is text in reverse video, padded or cut to width columns.
func bar(text string, width int) string {
	r := []rune(text)
	r = r[:fitting(r, width)]
	return "\x1b[7m" + string(r) + strings.Repeat(" ", width-columns(r)) + "\x1b[0m"
}
