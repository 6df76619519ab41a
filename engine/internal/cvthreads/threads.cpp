#include <opencv2/core.hpp>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif
#include "threads.h"

// gocv v0.31.0 does not expose cv::setNumThreads.
void fcSetNumThreads(int n) { cv::setNumThreads(n); }
int fcGetNumThreads(void) { return cv::getNumThreads(); }

// fcFlushDenormals sets (on != 0) or clears the SSE flush-to-zero and
// denormals-are-zero bits of the calling thread, then rebuilds OpenCV's
// thread pool from this thread: threads inherit the floating-point
// environment of the thread that creates them.
int fcFlushDenormals(int on) {
#if defined(__x86_64__) || defined(__i386__)
	unsigned int csr = _mm_getcsr();
	if (on) {
		csr |= 0x8040; // FTZ (bit 15) | DAZ (bit 6)
	} else {
		csr &= ~0x8040u;
	}
	_mm_setcsr(csr);
	int n = cv::getNumThreads();
	cv::setNumThreads(0);
	cv::setNumThreads(n);
	return 1;
#else
	(void)on;
	return 0;
#endif
}
