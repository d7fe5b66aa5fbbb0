package qwk

import "math"

// MSBIN returns n as a Microsoft Binary Format single, the number form of
// QWK's NDX files: little-endian, three bytes of mantissa (the top bit of
// the third holding the sign) and a last byte of exponent biased by 129.
// Whole numbers up to 2^24 are exact; 0 is four zero bytes.
func MSBIN(n uint32) [4]byte {
	if n == 0 {
		return [4]byte{}
	}
	bits := math.Float32bits(float32(n))
	mantissa := bits & 0x7fffff
	// IEEE's exponent is biased by 127 with the point after the hidden
	// bit; MBF's by 129 with the point before it: two more.
	exponent := (bits>>23)&0xff + 2
	return [4]byte{byte(mantissa), byte(mantissa >> 8), byte(mantissa>>16) & 0x7f, byte(exponent)}
}

// FromMSBIN reads a Microsoft Binary Format single as a whole number
// (MSBIN's inverse for whole numbers); a negative or fractional value is
// truncated toward zero, values past 2^32 are clipped.
func FromMSBIN(b [4]byte) uint32 {
	if b[3] == 0 {
		return 0
	}
	if b[2]&0x80 != 0 {
		return 0
	}
	// value = 0.1mmm... × 2^(exp-128) = (2^23 | mantissa) × 2^(exp-152)
	m := float64(uint32(b[2]&0x7f)<<16 | uint32(b[1])<<8 | uint32(b[0]) | 1<<23)
	v := math.Ldexp(m, int(b[3])-152)
	if v >= math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}
