//go:build !amd64

package engine

// dotRows sets out[r] to the dot product of q with row r of rows (Dim each).
func dotRows(q []int8, rows []int8, out []int32) { dotRowsGo(q, rows, out) }
