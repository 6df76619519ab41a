#include "textflag.h"

// func dotRowsAVX2(q *int8, rows *int8, nrows int, out *int32)
// For each of nrows rows of 512 int8 values, out[r] = Σ q[i]*rows[r][i].
// Sign-extends 16 bytes to 16 int16 lanes (VPMOVSXBW), multiplies and adds
// pairs into int32 (VPMADDWD): no overflow, since |a*b + c*d| <= 2*128*128.
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ q+0(FP), SI
	MOVQ rows+8(FP), DI
	MOVQ nrows+16(FP), CX
	MOVQ out+24(FP), DX

rowloop:
	TESTQ CX, CX
	JZ    done
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	XORQ  AX, AX

inner:
	VPMOVSXBW (SI)(AX*1), Y2
	VPMOVSXBW (DI)(AX*1), Y3
	VPMADDWD  Y2, Y3, Y3
	VPADDD    Y3, Y0, Y0
	VPMOVSXBW 16(SI)(AX*1), Y4
	VPMOVSXBW 16(DI)(AX*1), Y5
	VPMADDWD  Y4, Y5, Y5
	VPADDD    Y5, Y1, Y1
	ADDQ      $32, AX
	CMPQ      AX, $512
	JL        inner

	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, (DX)
	ADDQ         $512, DI
	ADDQ         $4, DX
	DECQ         CX
	JMP          rowloop

done:
	VZEROUPPER
	RET
