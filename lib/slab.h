//@ 04
/*
 * The task slab: where tasks live. Not part of the public API.
 *
 * malloc serves every size and pays for it: a header in front of each block, rounding,
 * and a lock. Tasks come in a few sizes, are made and freed by the million, and need
 * two things malloc cannot give: a way from a task to its executor that costs the task
 * no pointer, and a way for the executor to visit every task it owns. So blocks are cut
 * from chunks of AX__CHUNK bytes, each aligned to its own size: masking a block's
 * address finds its chunk, and the chunk's header names the owner. Sizes are rounded up
 * to a size class (16-byte steps, then four classes per doubling). Each class hands out
 * the lowest free block of one chunk, found in the chunk's bitmap, until that chunk is
 * full, then moves to the next chunk with room: blocks freed in any order come back
 * packed together, so a million tasks made after a million freed at random cost a
 * miss per chunk, not a miss per task. A block too big for any class gets a chunk of
 * its own, given back when the block is freed; class chunks are kept for reuse until
 * the slab goes.
 *
 * Class chunks are carved in turn from regions the slab maps from the kernel, each
 * twice the size of the one before, from AX__REGION_MIN up to AX__REGION_MAX. A small
 * program maps a quarter of a megabyte; a program of a million tasks maps a few dozen
 * regions, not thousands of chunks. Regions of 2 MiB and more are aligned to 2 MiB
 * and offered to the kernel for huge pages (madvise MADV_HUGEPAGE), which turns 512
 * page faults into one and spares the TLB: walking a million tasks in memory then
 * costs far fewer misses.
 */
#ifndef AX_SLAB_H
#define AX_SLAB_H

#include <stddef.h>
#include <stdint.h>

#define AX__CHUNK        ((size_t)64 * 1024)
#define AX__REGION_MIN   ((size_t)256 * 1024)
#define AX__REGION_MAX   ((size_t)32 * 1024 * 1024)
#define AX__SLAB_CLASSES 80

struct ax__chunk;

struct ax__slab {
    void *owner; /* what ax__slab_owner returns for any block of this slab */
    struct ax__chunk *chunks; /* every chunk, newest first */
    struct ax__chunk *room[AX__SLAB_CLASSES]; /* per class: chunks with a free block */
    char *region_next, *region_end; /* chunks not carved yet from the newest region */
    size_t region_size; /* the newest region's size */
    int visiting; /* inside ax__slab_visit: large chunks are unmapped after it */
};

void ax__slab_init(struct ax__slab *slab, void *owner);

/* A zeroed block of at least size bytes, 16-byte aligned; NULL when out of memory. */
void *ax__slab_alloc(struct ax__slab *slab, size_t size);

void ax__slab_free(void *block);

/* The owner of the slab a block came from: the chunk header says. */
void *ax__slab_owner(const void *block);

/* Calls visit on every block handed out and not freed. visit may free blocks; a block
 * it allocates may or may not be visited. */
void ax__slab_visit(struct ax__slab *slab, void (*visit)(void *block, void *arg), void *arg);

/* Gives every chunk back, whatever is still in it. */
void ax__slab_destroy(struct ax__slab *slab);

#endif
