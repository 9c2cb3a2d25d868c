// Package jsonpool lends JSON decoders over byte slices, so that the hot
// paths that read JSON token by token — a bus flattening an event's data,
// a queue checking a structured CloudEvent — reuse a decoder instead of
// making one (and its buffers) for every value.
package jsonpool

import (
	"bytes"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// Lent is a decoder lent by Get, reading the bytes given to Get.
type Lent struct {
	// Decoder reads the bytes; it and the values it returned are valid
	// until Release.
	Decoder *jsontext.Decoder
	rd      bytes.Reader
}

var lent = sync.Pool{New: func() any {
	l := &Lent{}
	l.Decoder = jsontext.NewDecoder(&l.rd)
	return l
}}

// Get lends a decoder reading data with opts.
func Get(data []byte, opts ...jsontext.Options) *Lent {
	l := lent.Get().(*Lent)
	l.rd.Reset(data)
	l.Decoder.Reset(&l.rd, opts...)
	return l
}

// Release gives the decoder back; neither it nor what it returned may be
// used after.
func (l *Lent) Release() {
	l.rd.Reset(nil)
	lent.Put(l)
}
