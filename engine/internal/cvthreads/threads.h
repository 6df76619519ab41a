#ifdef __cplusplus
extern "C" {
#endif
void fcSetNumThreads(int n);
int fcGetNumThreads(void);
#ifdef __cplusplus
}
#endif
