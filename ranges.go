package recordvault

// ResolveRange settles a byte range asked of size bytes (RFC 9110 14.1.2): off < 0 asks for
// the last -off bytes, n < 0 for everything from off, and a range running past the end stops
// at it. It returns the range's first byte and length, or ERANGE for one that starts past the
// end (of a non-empty object).
func ResolveRange(off, n, size int64) (start, length int64, err error) {
	if off < 0 {
		off, n = max(size+off, 0), -1
	}
	if n < 0 || off+n > size {
		n = size - off
	}
	if off >= size && size > 0 {
		return 0, 0, Errorf(ERANGE, "the range starts past the end")
	}
	return off, n, nil
}
