// Package imagebomb makes the hostile images the decoding and upload tests
// send: PNGs of a few hundred KiB that decode to hundreds of MiB. They are
// made in the tests, never kept as files.
package imagebomb

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// Colour types of a PNG header.
const (
	Gray byte = 0
	RGB  byte = 2
)

// PNG returns a w x h PNG of zero rows with the given bit depth (8 or 16)
// and colour type (Gray or RGB), streaming the rows into zlib so the
// picture is never held in memory.
func PNG(w, h int, depth, colorType byte) []byte {
	chunk := func(out *bytes.Buffer, typ string, data []byte) {
		binary.Write(out, binary.BigEndian, uint32(len(data)))
		body := append([]byte(typ), data...)
		out.Write(body)
		binary.Write(out, binary.BigEndian, crc32.ChecksumIEEE(body))
	}
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, colorType
	chunk(&out, "IHDR", ihdr)
	channels := 1
	if colorType == RGB {
		channels = 3
	}
	row := make([]byte, 1+w*channels*int(depth)/8)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression) // a valid level cannot fail
	for y := 0; y < h; y++ {
		zw.Write(row)
	}
	zw.Close()
	chunk(&out, "IDAT", z.Bytes())
	chunk(&out, "IEND", nil)
	return out.Bytes()
}
