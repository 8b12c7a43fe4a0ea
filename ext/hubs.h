/* The live hubs of this process's pool, as their slots say, for status()
 * and phpinfo(): so operators and tests can see how clients are spread. */
#ifndef RT_EXT_HUBS_H
#define RT_EXT_HUBS_H

#include "php.h"

/* Adds "hubs" => [[node, pid, connections], ...] to arr; with a broker that
 * keeps no slots (Redis), this process's hub alone; [] without a hub. */
void rt_hubs_add_status(zval *arr);
/* The same as one phpinfo() row, when this process runs a hub. */
void rt_hubs_info_row(void);
/* Rows of php --ri realtime: each hub's broker state and recent errors. */
void rt_hubs_detail_rows(void);

#endif
