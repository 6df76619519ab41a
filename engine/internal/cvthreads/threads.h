#ifdef __cplusplus
extern "C" {
#endif
void fcSetNumThreads(int n);
int fcGetNumThreads(void);
int fcFlushDenormals(int on);
#ifdef __cplusplus
}
#endif
