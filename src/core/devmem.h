/* What the parameter store (params.c) needs of a device's memory, and the
 * store's device hooks. The store is core and knows no backend: a device
 * (backend/device.h) hands it this table (sy_device_mem), and the graph
 * attaches the store with it. Calls are ordered on the device's one stream;
 * sync waits for them and returns the first failure. Not a public interface. */
#ifndef SYRE_CORE_DEVMEM_H
#define SYRE_CORE_DEVMEM_H

#include <stddef.h>

#include "syre/params.h"

typedef struct sy_devmem {
    void *owner;      /* the device, passed back to every call */
    const char *name; /* "cuda", "sim": for messages */
    void *(*alloc)(void *owner, size_t bytes); /* zero-filled; NULL with a message */
    void (*free)(void *owner, void *p);
    void (*upload)(void *owner, void *dst, const void *src, size_t bytes);
    void (*download)(void *owner, void *dst, const void *src, size_t bytes);
    void (*zero)(void *owner, void *dst, size_t bytes);
    sy_status (*sync)(void *owner);
    const char *(*error)(void *owner); /* what the last failed sync saw */
} sy_devmem;

/* Put the store in device memory m (the first device graph compiled on it);
 * a store used by CPU graphs cannot move, nor one on another device. */
sy_status sy_params_attach(sy_params *ps, const sy_devmem *m);
/* Record that a CPU graph uses the store (a device store refuses). */
sy_status sy_params_claim_host(sy_params *ps);
/* The device memory the store lives in, NULL on the host. */
const sy_devmem *sy_params_devmem(const sy_params *ps);
/* Device buffers, made current first (uploading host changes). write = the
 * caller will modify them, so the host copy becomes stale. */
float *sy_params_dev_data(sy_params *ps, int write);
float *sy_params_dev_grad(sy_params *ps, int write);
/* Offset of tensor idx in the flat buffers. */
size_t sy_params_offset(const sy_params *ps, int idx);

#endif
