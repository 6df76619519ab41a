/* A test fixture for Wine 8.0 only, never shipped: Go's Windows runtime
 * loads ProcessPrng from system32\bcryptprimitives.dll (present since
 * Windows 8), which Wine 8.0 lacks. This DLL exports it, filled by
 * RtlGenRandom (advapi32's SystemFunction036). */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
