package engine

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly kernel; the pure-Go loop serves CPUs without
// AVX2 and is what the kernel is tested against.
var useAVX2 = cpu.X86.HasAVX2

//go:noescape
func dotRowsAVX2(q *int8, rows *int8, nrows int, out *int32)

// dotRows sets out[r] to the dot product of q with row r of rows (Dim each).
func dotRows(q []int8, rows []int8, out []int32) {
	n := len(out)
	if n == 0 {
		return
	}
	_ = rows[n*Dim-1]
	_ = q[Dim-1]
	if useAVX2 {
		dotRowsAVX2(&q[0], &rows[0], n, &out[0])
		return
	}
	dotRowsGo(q, rows, out)
}
