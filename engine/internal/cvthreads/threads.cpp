#include <opencv2/core.hpp>
#include "threads.h"

// gocv v0.31.0 does not expose cv::setNumThreads.
void fcSetNumThreads(int n) { cv::setNumThreads(n); }
int fcGetNumThreads(void) { return cv::getNumThreads(); }
