/* Little-endian packing of integers and IEEE floats into byte buffers, for the
 * binary files (checkpoint.bin, snapshots.bin). The put_ functions write at *p
 * and move *p past what they wrote; the get_ functions read at p. */
#ifndef NNCL_LE_BYTES_H
#define NNCL_LE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void le_put_u32(unsigned char **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (unsigned char)(v >> (8 * i));
}

static inline void le_put_u64(unsigned char **p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *(*p)++ = (unsigned char)(v >> (8 * i));
}

static inline void le_put_f32(unsigned char **p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    le_put_u32(p, v);
}

static inline void le_put_f64(unsigned char **p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    le_put_u64(p, v);
}

static inline void le_put_floats(unsigned char **p, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        le_put_f32(p, x[i]);
}

static inline uint32_t le_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le_get_u64(const unsigned char *p)
{
    return (uint64_t)le_get_u32(p) | (uint64_t)le_get_u32(p + 4) << 32;
}

static inline float le_get_f32(const unsigned char *p)
{
    uint32_t v = le_get_u32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static inline double le_get_f64(const unsigned char *p)
{
    uint64_t v = le_get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static inline void le_get_floats(const unsigned char *p, float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = le_get_f32(p + 4 * i);
}

#endif
