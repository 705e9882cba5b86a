/* Datasets on the device: uploaded once, then only an order (an index list)
 * moves per epoch. */
#include <stdlib.h>
#include <string.h>

#include "nncl/net.h"

nncl_status nncl_device_data_upload(nncl_device *dev, const nncl_dataset *ds, nncl_device_data *out)
{
    memset(out, 0, sizeof *out);
    if (ds->rows == 0 || ds->cols == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: no rows or no features", ds->source ? ds->source : "dataset");
    if (ds->rows > INT32_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: %zu rows is more than 2^31", ds->source ? ds->source : "dataset",
                         ds->rows);
    out->rows = ds->rows;
    out->cols = ds->cols;
    out->u8 = ds->x_u8 != NULL;
    out->task = ds->task;
    size_t xbytes = ds->rows * ds->cols * (out->u8 ? 1 : sizeof(float));
    nncl_status st = nncl_buffer_alloc(dev, xbytes, &out->x);
    if (st == NNCL_OK)
        st = nncl_buffer_write(out->x, 0, out->u8 ? (const void *)ds->x_u8 : (const void *)ds->x_f32, xbytes);
    /* the rows never change on the device: sealed, a device may keep what
     * it derives from them (the host's lists of each row's nonzero bytes) */
    if (st == NNCL_OK)
        st = nncl_buffer_seal(out->x);
    if (st == NNCL_OK)
        st = nncl_buffer_alloc(dev, ds->rows * sizeof(int32_t), &out->order);
    const void *y = ds->labels ? (const void *)ds->labels : (const void *)ds->targets;
    if (st == NNCL_OK && y) {
        out->has_y = true;
        st = nncl_buffer_alloc(dev, ds->rows * 4, &out->y);
        if (st == NNCL_OK)
            st = nncl_buffer_write(out->y, 0, y, ds->rows * 4);
    }
    /* The natural order, until the caller shuffles. */
    int32_t *order = st == NNCL_OK ? malloc(ds->rows * sizeof *order) : NULL;
    if (st == NNCL_OK && !order)
        st = nncl_fail(NNCL_E_NOMEM, "out of memory uploading a dataset");
    if (st == NNCL_OK) {
        for (size_t i = 0; i < ds->rows; i++)
            order[i] = (int32_t)i;
        st = nncl_device_data_set_order(out, order);
    }
    free(order);
    if (st != NNCL_OK) {
        nncl_device_data_free(out);
        return nncl_fail_context(st, "uploading %s", ds->source ? ds->source : "the dataset");
    }
    return NNCL_OK;
}

void nncl_device_data_free(nncl_device_data *dd)
{
    nncl_buffer_free(dd->x);
    nncl_buffer_free(dd->y);
    nncl_buffer_free(dd->order);
    memset(dd, 0, sizeof *dd);
}

nncl_status nncl_device_data_set_order(nncl_device_data *dd, const int32_t *order)
{
    dd->version++;
    dd->identity = true;
    for (size_t i = 0; i < dd->rows && dd->identity; i++)
        dd->identity = order[i] == (int32_t)i;
    return nncl_buffer_write(dd->order, 0, order, dd->rows * sizeof(int32_t));
}
