package exchange

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line an import accepts (16 MiB).
const MaxLine = 16 << 20

// lineReader yields the lines of r without their line ends, numbered
// from 1.
type lineReader struct {
	r    *bufio.Reader
	n    int
	long []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20)}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLine)

// next returns the next line (valid until the following call), its
// number, and io.EOF after the last one. A line that is too long is
// skipped and reported with errLineTooLong.
func (l *lineReader) next() ([]byte, int, error) {
	line, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], line...)
		tooLong := false
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = l.r.ReadSlice('\n')
			if len(l.long)+len(line) > MaxLine {
				tooLong = true
				l.long = l.long[:0]
			}
			if !tooLong {
				l.long = append(l.long, line...)
			}
		}
		if tooLong {
			l.n++
			return nil, l.n, errLineTooLong
		}
		line = l.long
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, l.n, err
	}
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return nil, l.n, io.EOF
	}
	l.n++
	line = bytes.TrimRight(line, "\r\n")
	return line, l.n, nil
}
