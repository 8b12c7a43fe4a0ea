/* The functions a Realtime\broadcast() from PHP runs through, from the
 * argument checks to the shared ring. Marked hot, the compiler puts them
 * in .text.hot and the linker lays that out as one block, so a request's
 * first call touches a page or two of code instead of one per source file:
 * on a virtual machine each page missing from the TLB costs about a
 * microsecond to walk. */
#ifndef RT_HUB_HOT_H
#define RT_HUB_HOT_H

#define RT_HOT __attribute__((hot))

#endif
