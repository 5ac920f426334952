package fatbin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// maxDecode bounds how much of a payload is decoded to tell a stub from
// a module with kernels; a larger module is not a stub.
const maxDecode = 1 << 20

// headLen is how much of a payload is decoded to read its ELF header or
// PTX .target line.
const headLen = 4096

// inspect reads what an entry's payload tells beyond its header: the
// arch-specific suffix and whether it holds a kernel. A payload it cannot
// decode (an unknown compression) reads as plain code with kernels. A
// module whose kind is already in set with kernels is not decoded in full.
func inspect(h entryHeader, payload []byte, set *entrySet) Entry {
	e := Entry{Kind: h.kind, SM: h.sm}
	head, ok := decode(h, payload, headLen)
	if !ok {
		return e
	}
	e.Suffix = suffix(h.kind, head)
	if set != nil && set.has(e) {
		return e
	}
	compressed := h.flags&(flagLZ4|flagZSTD) != 0 || isZstd(payload)
	if compressed && h.full > maxDecode || !compressed && uint64(len(payload)) > maxDecode {
		return e
	}
	full, ok := decode(h, payload, maxDecode)
	if ok && len(full) < maxDecode {
		e.Empty = !hasKernel(h.kind, full)
	}
	return e
}

// decode returns up to limit bytes of the entry's payload, uncompressed.
func decode(h entryHeader, payload []byte, limit int) ([]byte, bool) {
	src := payload
	if h.flags&(flagLZ4|flagZSTD) != 0 && h.csize > 0 && h.csize <= uint64(len(payload)) {
		src = payload[:h.csize]
	}
	if h.flags&(flagLZ4|flagZSTD) != 0 && h.full > 0 {
		limit = int(min(uint64(limit), h.full))
	}
	switch {
	case isZstd(src):
		return zstdHead(src, limit)
	case h.flags&flagZSTD != 0:
		return nil, false
	case h.flags&flagLZ4 != 0:
		return lz4Block(src, limit)
	}
	return payload[:min(limit, len(payload))], true
}

// zstdMagic starts a ZSTD frame (RFC 8878), as payloads compressed by
// CUDA 12.8 and later begin.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

func isZstd(p []byte) bool { return bytes.HasPrefix(p, zstdMagic) }

// zstdDecoders are reused: a decoder is costly to make, an image holds
// thousands of modules. The window is bounded, as the output is.
var zstdDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(8<<20))
	if err != nil {
		return nil
	}
	return d
}}

// zstdHead decodes up to limit bytes of the ZSTD frame in src; a frame
// cut short gives what its complete blocks hold.
func zstdHead(src []byte, limit int) ([]byte, bool) {
	d, _ := zstdDecoders.Get().(*zstd.Decoder)
	if d == nil {
		return nil, false
	}
	defer zstdDecoders.Put(d)
	if err := d.Reset(bytes.NewReader(src)); err != nil {
		return nil, false
	}
	out := make([]byte, limit)
	n, err := io.ReadFull(d, out)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return out[:n], n > 0
	}
	return out[:n], true
}

// ELF e_flags of a cubin (LLVM's llvm/BinaryFormat/ELF.h): the
// arch-specific ("a") marker is EF_CUDA_ACCELERATORS_V1 (0x800) in the ABI
// before CUDA 13 (EI_ABIVERSION 7), EF_CUDA_ACCELERATORS (0x8) from ABI 8.
const (
	efAcceleratorsV1 = 0x800
	efAccelerators   = 0x8
)

// suffix reads "a" or "f" from a cubin's ELF header or a PTX module's
// .target line.
func suffix(kind uint16, head []byte) string {
	if kind == KindPTX {
		return ptxSuffix(head)
	}
	if len(head) < 0x34 || !bytes.HasPrefix(head, []byte("\x7fELF")) || head[4] != 2 {
		return ""
	}
	flags := binary.LittleEndian.Uint32(head[0x30:])
	if head[8] >= 8 {
		if flags&efAccelerators != 0 {
			return "a"
		}
		return ""
	}
	if flags&efAcceleratorsV1 != 0 {
		return "a"
	}
	return ""
}

// ptxSuffix reads the suffix of the first target of a ".target sm_90a"
// line.
func ptxSuffix(text []byte) string {
	t := ptxTarget(text)
	if n := len(t); n > 0 && (t[n-1] == 'a' || t[n-1] == 'f') {
		return t[n-1:]
	}
	return ""
}

// ptxTarget returns the first target of PTX text's .target directive
// ("sm_90a"), or "".
func ptxTarget(text []byte) string {
	i := bytes.Index(text, []byte(".target"))
	if i < 0 {
		return ""
	}
	rest := text[i+len(".target"):]
	if end := bytes.IndexAny(rest, "\n,"); end >= 0 {
		rest = rest[:end]
	}
	return strings.TrimSpace(string(rest))
}

// hasKernel reports whether a module holds a kernel: a cubin with a
// non-empty .text section, PTX with an .entry. A cubin whose sections
// cannot be read counts as holding one.
func hasKernel(kind uint16, data []byte) bool {
	if kind == KindPTX {
		return bytes.Contains(data, []byte(".entry"))
	}
	has, ok := cubinHasText(data)
	return has || !ok
}

// cubinHasText reports whether an ELF64 cubin has a .text.* section with
// bytes; ok is false when its section headers cannot be read.
func cubinHasText(d []byte) (has, ok bool) {
	le := binary.LittleEndian
	if len(d) < 64 || !bytes.HasPrefix(d, []byte("\x7fELF")) || d[4] != 2 || d[5] != 1 {
		return false, false
	}
	shoff, shentsize, shnum, shstrndx := le.Uint64(d[0x28:]), uint64(le.Uint16(d[0x3a:])), uint64(le.Uint16(d[0x3c:])), uint64(le.Uint16(d[0x3e:]))
	if shentsize < 64 || shoff > uint64(len(d)) || shnum*shentsize > uint64(len(d))-shoff || shstrndx >= shnum {
		return false, false
	}
	sh := func(i uint64) []byte { return d[shoff+i*shentsize:][:64] }
	strs := sh(shstrndx)
	stroff, strsize := le.Uint64(strs[0x18:]), le.Uint64(strs[0x20:])
	if stroff > uint64(len(d)) || strsize > uint64(len(d))-stroff {
		return false, false
	}
	names := d[stroff : stroff+strsize]
	for i := range shnum {
		s := sh(i)
		name, size := uint64(le.Uint32(s)), le.Uint64(s[0x20:])
		if name >= uint64(len(names)) || size == 0 {
			continue
		}
		if bytes.HasPrefix(names[name:], []byte(".text.")) {
			return true, true
		}
	}
	return false, true
}

// lz4Block decodes an LZ4 block (the format of LZ4's lz4_Block_format.md:
// sequences of a token, literals, a 2-byte offset and a match) up to limit
// bytes of output. ok is false for a block that is not well formed.
func lz4Block(src []byte, limit int) (dst []byte, ok bool) {
	dst = make([]byte, 0, min(limit, 4*len(src)+64))
	i := 0
	for i < len(src) {
		tok := src[i]
		i++
		lit, ok := lz4Len(src, &i, int(tok>>4))
		if !ok || lit > len(src)-i {
			return dst, false
		}
		dst = append(dst, src[i:i+lit]...)
		i += lit
		if len(dst) >= limit {
			return dst[:limit], true
		}
		if i == len(src) {
			return dst, true // the last sequence has literals only
		}
		if len(src)-i < 2 {
			return dst, false
		}
		off := int(src[i]) | int(src[i+1])<<8
		i += 2
		if off == 0 || off > len(dst) {
			return dst, false
		}
		n, ok := lz4Len(src, &i, int(tok&15))
		if !ok {
			return dst, false
		}
		for n += 4; n > 0; n-- {
			dst = append(dst, dst[len(dst)-off])
			if len(dst) >= limit {
				return dst[:limit], true
			}
		}
	}
	return dst, true
}

// lz4Len reads the extension bytes of a length that starts at n (15 means
// more bytes follow, each added, until one below 255).
func lz4Len(src []byte, i *int, n int) (int, bool) {
	if n != 15 {
		return n, true
	}
	for {
		if *i >= len(src) {
			return 0, false
		}
		b := src[*i]
		*i++
		n += int(b)
		if b != 255 {
			return n, true
		}
	}
}
