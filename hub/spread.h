/* Serves the listening socket that the hubs of a pool share (bound before
 * the fork), taking new clients only while this hub is not clearly ahead of
 * the least loaded hub of the pool, so that clients spread evenly. */
#ifndef RT_HUB_SPREAD_H
#define RT_HUB_SPREAD_H

struct rt_hub;

/* Initializes the hub's spread timer; always, so it can always be closed. */
void rt_spread_init(struct rt_hub *hub);
/* Starts serving fd (the hub owns it from now on, even on failure). */
void rt_spread_adopt(struct rt_hub *hub, int fd);
/* Publishes the hub's load (accepted connections still open) to its pool. */
void rt_spread_note_load(struct rt_hub *hub);
/* Closes what rt_spread_init and rt_spread_adopt opened; the descriptor
 * is closed by rt_spread_free once the loop is done with it. */
void rt_spread_close(struct rt_hub *hub);
void rt_spread_free(struct rt_hub *hub);

#endif
