/* One form of sy_rng_normal_fill's chunk (core/rng.c), included once per
 * instruction set with
 *   SY_CHUNK_NAME  the function's name,
 *   SY_CHUNK_ATTR  its target attribute (may be empty),
 *   SY_CHUNK_MUL   mul_v for that instruction set.
 * One chunk: counters ctr .. ctr + LANES - 1; out[w * LANES + l] is normal w
 * (0: R0 cos, 1: R0 sin, 2: R1 cos, 3: R1 sin) of lane l. Philox runs on LANES
 * counters at once in GCC/clang vector types, the same rounds as sy_philox
 * element for element; the integer steps are exact and the float ones
 * strictly rounded in every form, so all give the same bits.
 * No include guard: meant to be included more than once. */
SY_CHUNK_ATTR static void SY_CHUNK_NAME(uint64_t key, uint64_t sub, uint64_t ctr, float *out)
{
    sy_u32v c0, c1, c2, c3;
    for (int l = 0; l < SY_FILL_LANES; l++) {
        uint64_t c = ctr + (uint64_t)l;
        c0[l] = (uint32_t)c;
        c1[l] = (uint32_t)(c >> 32);
    }
    c2 = (sy_u32v){0} + (uint32_t)sub;
    c3 = (sy_u32v){0} + (uint32_t)(sub >> 32);
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int r = 0; r < 10; r++) {
        sy_u32v h0, lo0, h1, lo1;
        SY_CHUNK_MUL(&c0, PHILOX_M0, &h0, &lo0);
        SY_CHUNK_MUL(&c2, PHILOX_M1, &h1, &lo1);
        c0 = h1 ^ c1 ^ k0;
        c2 = h0 ^ c3 ^ k1;
        c1 = lo1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    uint32_t w0[SY_FILL_LANES], w1[SY_FILL_LANES], w2[SY_FILL_LANES], w3[SY_FILL_LANES];
    memcpy(w0, &c0, sizeof w0);
    memcpy(w1, &c1, sizeof w1);
    memcpy(w2, &c2, sizeof w2);
    memcpy(w3, &c3, sizeof w3);
    for (int l = 0; l < SY_FILL_LANES; l++) {
        float ra = sqrtf(neg2log_unit((w0[l] >> 8) + 1u)), rb = sqrtf(neg2log_unit((w2[l] >> 8) + 1u));
        float ca, sa, cb, sb;
        sincos_turn24(w1[l] >> 8, &ca, &sa);
        sincos_turn24(w3[l] >> 8, &cb, &sb);
        out[l] = ra * ca;
        out[SY_FILL_LANES + l] = ra * sa;
        out[2 * SY_FILL_LANES + l] = rb * cb;
        out[3 * SY_FILL_LANES + l] = rb * sb;
    }
}

#undef SY_CHUNK_NAME
#undef SY_CHUNK_ATTR
#undef SY_CHUNK_MUL
