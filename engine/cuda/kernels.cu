// Kernels of engine/cuda, compiled at run time by NVRTC for the device's
// architecture (source.go, module.go). The host passes the launch constants
// with -D options (compileOptions), so the geometry it computes and the code
// here cannot disagree. Every kernel is extern "C" so the host finds it by
// the name written here; kernel_table.go lists them with their parameters
// and a test checks the two against each other.
//
// Weights keep the engine's row layout (engine/quant/rows.go) unchanged:
// a row holds all its codes, then one E5M3 scale code per group of 32
// weights, then (Int2, Int4) one int8 offset code per group, and
// weight = d * (q + o). Activations are Q8 (engine/quant/q8.go): int8 codes,
// and per group a scale D and the dequantized sum S, so a group contributes
//
//     d * (D * isum + o * S)       isum = sum of q * code, exact in int32
//
// Compiled with --fmad=false, every float operation rounds as written, so
// a row's result is fixed by the order of the additions: lane l of a warp
// adds the terms of groups l, l+32, l+64, ... in turn, then the 32 lane
// sums are combined by a butterfly (xor 16, 8, 4, 2, 1). The Go tests
// emulate exactly that order.

#ifndef MM_WARPS
#error "MM_WARPS (rows per block of the matrix kernels) must be defined by the host"
#endif
#ifndef MM_UNROLL
#error "MM_UNROLL (groups per lane loaded before use) must be defined by the host"
#endif
#ifndef MV_ROWS
#error "MV_ROWS (rows per warp of the GEMV kernels) must be defined by the host"
#endif
#ifndef MM_STREAM
#error "MM_STREAM (1: weights read past L1) must be defined by the host"
#endif
#ifndef MM_MAX_TOKENS
#error "MM_MAX_TOKENS (activation vectors per GEMM launch) must be defined by the host"
#endif
#ifndef Q8_WARPS
#error "Q8_WARPS (groups per block of quantize_q8) must be defined by the host"
#endif

typedef unsigned char u8;
typedef signed char i8;
typedef unsigned int u32;

#define FULL_MASK 0xffffffffu

// quant.Format values.
#define FMT_INT8 2
#define FMT_INT4 3
#define FMT_INT2 4

// Code bytes of one group of 32 weights.
template <int FMT> struct Fmt;
template <> struct Fmt<FMT_INT2> { enum { CODE_BYTES = 8 }; };
template <> struct Fmt<FMT_INT4> { enum { CODE_BYTES = 16 }; };
template <> struct Fmt<FMT_INT8> { enum { CODE_BYTES = 32 }; };

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000); }

// scale_of decodes an E5M3 ScaleCode: its float bits are code<<20 + (127-24)<<23.
__device__ __forceinline__ float scale_of(u32 c) { return __int_as_float((int)((c << 20) + (103u << 23))); }

// offset_of returns a group's offset o in units of its scale.
template <int FMT> __device__ __forceinline__ float offset_of(int m);
template <> __device__ __forceinline__ float offset_of<FMT_INT2>(int m) { return (float)m * 0.0625f; }
template <> __device__ __forceinline__ float offset_of<FMT_INT4>(int m) { return (float)m * 0.25f; }
template <> __device__ __forceinline__ float offset_of<FMT_INT8>(int m) { return -128.0f; }

// Four-way byte dot products with an accumulator (sm_61 and later).
__device__ __forceinline__ int dp4a_ss(int a, int b, int c) {
    int d;
    asm("dp4a.s32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}
__device__ __forceinline__ int dp4a_us(u32 a, int b, int c) {
    int d;
    asm("dp4a.u32.s32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}

// ld_w4, ld_w2 and ld_w1 load 16, 8 and 4 bytes of weights. With
// MM_STREAM on sm_70 and later the loads skip L1 (each weight byte is read
// once per product), so L1 keeps the activation vector every row reads.
#if MM_STREAM && __CUDA_ARCH__ >= 700
#define MM_LD_W "ld.global.nc.L1::no_allocate"
#else
#define MM_LD_W "ld.global"
#endif
__device__ __forceinline__ uint4 ld_w4(const u8* p) {
    uint4 v;
    asm(MM_LD_W ".v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}
__device__ __forceinline__ uint2 ld_w2(const u8* p) {
    uint2 v;
    asm(MM_LD_W ".v2.u32 {%0, %1}, [%2];" : "=r"(v.x), "=r"(v.y) : "l"(p));
    return v;
}
__device__ __forceinline__ u32 ld_w1(const u8* p) {
    u32 v;
    asm(MM_LD_W ".u32 %0, [%1];" : "=r"(v) : "l"(p));
    return v;
}

// ld_b loads one byte of weights (a group's scale or offset code) as ld_w does.
__device__ __forceinline__ u32 ld_b(const u8* p) {
    unsigned short v;
    asm(MM_LD_W ".u8 %0, [%1];" : "=h"(v) : "l"(p));
    return v;
}

// load_codes reads one group's code bytes as little-endian words with the
// widest load the row alignment allows: ALIGN is 16 (uint4), 8 (uint2),
// 4 (u32) or 1 (bytes).
template <int ALIGN, int WORDS>
__device__ __forceinline__ void load_codes(const u8* __restrict__ p, u32 (&c)[WORDS]) {
    if (ALIGN >= 16 && WORDS % 4 == 0) {
#pragma unroll
        for (int i = 0; i < WORDS / 4; i++) {
            const uint4 v = ld_w4(p + 16 * i);
            c[4 * i] = v.x; c[4 * i + 1] = v.y; c[4 * i + 2] = v.z; c[4 * i + 3] = v.w;
        }
    } else if (ALIGN >= 8 && WORDS % 2 == 0) {
#pragma unroll
        for (int i = 0; i < WORDS / 2; i++) {
            const uint2 v = ld_w2(p + 8 * i);
            c[2 * i] = v.x; c[2 * i + 1] = v.y;
        }
    } else if (ALIGN >= 4) {
#pragma unroll
        for (int i = 0; i < WORDS; i++) c[i] = ld_w1(p + 4 * i);
    } else {
#pragma unroll
        for (int i = 0; i < WORDS; i++)
            c[i] = ld_b(p + 4 * i) | ld_b(p + 4 * i + 1) << 8 | ld_b(p + 4 * i + 2) << 16 | ld_b(p + 4 * i + 3) << 24;
    }
}

// group_dot returns the exact integer dot product of one group's codes with
// its 32 activations a[0..7] (four int8 per word, in order).
//
// Int2: byte j of a group holds weights j, j+8, j+16, j+24 in bits 1..0,
// 3..2, 5..4, 7..6, so word 0 (bytes 0..3) shifted by 2k holds weights
// 8k..8k+3 and word 1 holds 8k+4..8k+7.
__device__ __forceinline__ int group_dot_int2(const u32 (&c)[2], const int (&a)[8]) {
    int s = 0;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        s = dp4a_ss((int)((c[0] >> (2 * k)) & 0x03030303u), a[2 * k], s);
        s = dp4a_ss((int)((c[1] >> (2 * k)) & 0x03030303u), a[2 * k + 1], s);
    }
    return s;
}

// Int4: byte j holds weight j in its low nibble and j+16 in its high one.
__device__ __forceinline__ int group_dot_int4(const u32 (&c)[4], const int (&a)[8]) {
    int s = 0;
#pragma unroll
    for (int k = 0; k < 4; k++) {
        s = dp4a_ss((int)(c[k] & 0x0f0f0f0fu), a[k], s);
        s = dp4a_ss((int)((c[k] >> 4) & 0x0f0f0f0fu), a[4 + k], s);
    }
    return s;
}

// Int8: unsigned codes in order.
__device__ __forceinline__ int group_dot_int8(const u32 (&c)[8], const int (&a)[8]) {
    int s = 0;
#pragma unroll
    for (int k = 0; k < 8; k++) s = dp4a_us(c[k], a[k], s);
    return s;
}

template <int FMT> struct GroupDot;
template <> struct GroupDot<FMT_INT2> {
    static __device__ __forceinline__ int dot(const u32 (&c)[2], const int (&a)[8]) { return group_dot_int2(c, a); }
};
template <> struct GroupDot<FMT_INT4> {
    static __device__ __forceinline__ int dot(const u32 (&c)[4], const int (&a)[8]) { return group_dot_int4(c, a); }
};
template <> struct GroupDot<FMT_INT8> {
    static __device__ __forceinline__ int dot(const u32 (&c)[8], const int (&a)[8]) { return group_dot_int8(c, a); }
};

// mm_rows computes out[t*ldo + row] = sum_i W[row][i] * x_t[i] for ntok
// activation vectors (T is 1 for GEMV and MM_MAX_TOKENS for GEMM), R
// consecutive rows per warp (MV_ROWS for GEMV, 1 for GEMM), MM_WARPS warps
// per block. Lane l handles groups l, l+32, ... of each of its rows,
// loading MM_UNROLL groups' codes of all R rows before using any, so each
// lane keeps R*MM_UNROLL independent loads in flight and reads each
// activation group once for R rows; consecutive lanes read consecutive
// groups, so a warp's loads are contiguous. R changes only which loads are
// in flight: each row's sum is added in the same order for any R.
//
// Activations: xq holds ntok vectors of cols int8 codes; xd and xs hold
// ntok vectors of cols/32 group scales and sums.
template <int FMT, int ALIGN, int T, int R>
__device__ __forceinline__ void mm_rows(const u8* __restrict__ w, int rows, int cols, int row_bytes,
                                        const i8* __restrict__ xq, const float* __restrict__ xd,
                                        const float* __restrict__ xs, int ntok, float* __restrict__ out, int ldo) {
    enum { WORDS = Fmt<FMT>::CODE_BYTES / 4 };
    const int lane = threadIdx.x & 31;
    const int row0 = (blockIdx.x * MM_WARPS + (threadIdx.x >> 5)) * R;
    if (row0 >= rows) return; // the whole warp: row0 is the same for its lanes
    const int groups = cols >> 5;
    // Rows past the end repeat the last row's loads and are not stored.
    const u8* rw[R];
#pragma unroll
    for (int r = 0; r < R; r++) rw[r] = w + (size_t)min(row0 + r, rows - 1) * row_bytes;
    const size_t scale_at = (size_t)groups * Fmt<FMT>::CODE_BYTES;

    float acc[R][T];
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int t = 0; t < T; t++) acc[r][t] = 0.0f;

    for (int g0 = lane; g0 < groups; g0 += 32 * MM_UNROLL) {
        u32 c[MM_UNROLL][R][WORDS];
        u32 sc[MM_UNROLL][R];
        int of[MM_UNROLL][R];
#pragma unroll
        for (int u = 0; u < MM_UNROLL; u++) {
            const int g = g0 + 32 * u;
            if (g < groups) {
#pragma unroll
                for (int r = 0; r < R; r++) {
                    load_codes<ALIGN, WORDS>(rw[r] + (size_t)g * Fmt<FMT>::CODE_BYTES, c[u][r]);
                    sc[u][r] = ld_b(rw[r] + scale_at + g);
                    of[u][r] = FMT == FMT_INT8 ? 0 : (int)(i8)ld_b(rw[r] + scale_at + groups + g);
                }
            }
        }
#pragma unroll
        for (int u = 0; u < MM_UNROLL; u++) {
            const int g = g0 + 32 * u;
            if (g < groups) {
#pragma unroll
                for (int t = 0; t < T; t++) {
                    if (T > 1 && t >= ntok) break;
                    const int4* ap = (const int4*)(xq + (size_t)t * cols + (size_t)g * 32);
                    const int4 a0 = ap[0], a1 = ap[1];
                    const int a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
                    const float gd = xd[(size_t)t * groups + g];
                    const float gs = xs[(size_t)t * groups + g];
#pragma unroll
                    for (int r = 0; r < R; r++) {
                        const float d = scale_of(sc[u][r]);
                        const float o = offset_of<FMT>(of[u][r]);
                        const int isum = GroupDot<FMT>::dot(c[u][r], a);
                        acc[r][t] = acc[r][t] + d * (gd * (float)isum + o * gs);
                    }
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < R; r++) {
#pragma unroll
        for (int t = 0; t < T; t++) {
            if (T > 1 && t >= ntok) break;
            float v = acc[r][t];
#pragma unroll
            for (int off = 16; off > 0; off >>= 1) v = v + __shfl_xor_sync(FULL_MASK, v, off);
            if (lane == 0 && row0 + r < rows) out[(size_t)t * ldo + row0 + r] = v;
        }
    }
}

#define MM_PARAMS                                                                                          \
    const u8* __restrict__ w, int rows, int cols, int row_bytes, const i8* __restrict__ xq,               \
        const float* __restrict__ xd, const float* __restrict__ xs, int ntok, float* __restrict__ out, int ldo
#define MM_ARGS w, rows, cols, row_bytes, xq, xd, xs, ntok, out, ldo
#define MM_BOUNDS __launch_bounds__(32 * MM_WARPS)

// One matrix-vector kernel per format and code alignment (the largest power
// of two, at most the group's code size or 16, dividing the row size).
extern "C" __global__ void MM_BOUNDS gemv_int2_a8(MM_PARAMS) { mm_rows<FMT_INT2, 8, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int2_a4(MM_PARAMS) { mm_rows<FMT_INT2, 4, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int2_a1(MM_PARAMS) { mm_rows<FMT_INT2, 1, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int4_a16(MM_PARAMS) { mm_rows<FMT_INT4, 16, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int4_a4(MM_PARAMS) { mm_rows<FMT_INT4, 4, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int4_a1(MM_PARAMS) { mm_rows<FMT_INT4, 1, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int8_a16(MM_PARAMS) { mm_rows<FMT_INT8, 16, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int8_a4(MM_PARAMS) { mm_rows<FMT_INT8, 4, 1, MV_ROWS>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemv_int8_a1(MM_PARAMS) { mm_rows<FMT_INT8, 1, 1, MV_ROWS>(MM_ARGS); }

// Small-batch products: up to MM_MAX_TOKENS activation vectors per launch,
// each weight group loaded once for all of them.
extern "C" __global__ void MM_BOUNDS gemm_int2_a8(MM_PARAMS) { mm_rows<FMT_INT2, 8, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int2_a4(MM_PARAMS) { mm_rows<FMT_INT2, 4, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int2_a1(MM_PARAMS) { mm_rows<FMT_INT2, 1, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int4_a16(MM_PARAMS) { mm_rows<FMT_INT4, 16, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int4_a4(MM_PARAMS) { mm_rows<FMT_INT4, 4, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int4_a1(MM_PARAMS) { mm_rows<FMT_INT4, 1, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int8_a16(MM_PARAMS) { mm_rows<FMT_INT8, 16, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int8_a4(MM_PARAMS) { mm_rows<FMT_INT8, 4, MM_MAX_TOKENS, 1>(MM_ARGS); }
extern "C" __global__ void MM_BOUNDS gemm_int8_a1(MM_PARAMS) { mm_rows<FMT_INT8, 1, MM_MAX_TOKENS, 1>(MM_ARGS); }

// Block reductions. Every warp reduces the per-warp partials itself, so all
// threads return the total; blockDim.x must be a multiple of 32.
__device__ double block_sum(double v) {
    __shared__ double part[32];
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(FULL_MASK, v, off);
    __syncthreads(); // part may still be read by a previous call
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    v = (threadIdx.x & 31) < (blockDim.x >> 5) ? part[threadIdx.x & 31] : 0.0;
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(FULL_MASK, v, off);
    return v;
}

__device__ float block_max(float v) {
    __shared__ float part[32];
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, off));
    __syncthreads();
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
    __syncthreads();
    v = (threadIdx.x & 31) < (blockDim.x >> 5) ? part[threadIdx.x & 31] : neg_inf();
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, off));
    return v;
}

// quantize_group quantizes the group g of 32 floats whose value v lane
// holds, as quant.QuantizeQ8Ref does (d = max|x|/127, codes x/d rounded
// half away from zero, S = d * sum of codes). The whole warp calls it.
__device__ __forceinline__ void quantize_group(float v, int lane, int g, i8* __restrict__ qs, float* __restrict__ d,
                                               float* __restrict__ s) {
    float amax = fabsf(v);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) amax = fmaxf(amax, __shfl_xor_sync(FULL_MASK, amax, off));
    const float dg = amax / 127.0f;
    const float inv = dg != 0.0f ? 1.0f / dg : 0.0f;
    const int c = (int)roundf(v * inv);
    qs[(size_t)g * 32 + lane] = (i8)c;
    int sum = c;
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) sum += __shfl_xor_sync(FULL_MASK, sum, off);
    if (lane == 0) {
        d[g] = dg;
        s[g] = dg * (float)sum;
    }
}

// quantize_q8 quantizes groups of 32 floats (quantize_group), one warp per
// group, Q8_WARPS groups per block. Unlike the CPU reference it does not
// reject NaNs or infinities.
extern "C" __global__ void __launch_bounds__(32 * Q8_WARPS)
    quantize_q8(const float* __restrict__ x, i8* __restrict__ qs, float* __restrict__ d, float* __restrict__ s, int groups) {
    const int g = blockIdx.x * Q8_WARPS + (threadIdx.x >> 5);
    if (g >= groups) return;
    const int lane = threadIdx.x & 31;
    quantize_group(x[(size_t)g * 32 + lane], lane, g, qs, d, s);
}

// rmsnorm sets dst[i] = x[i] * (1/sqrt(mean(x^2) + eps)) * w[i] for each row
// of n values (one block per row), as nn.RMSNorm: the mean in double.
// dst may alias x.
extern "C" __global__ void rmsnorm(float* dst, const float* x, const float* __restrict__ w, int n, float eps) {
    const float* xr = x + (size_t)blockIdx.x * n;
    float* dr = dst + (size_t)blockIdx.x * n;
    double ss = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const double v = xr[i];
        ss += v * v;
    }
    ss = block_sum(ss);
    const float scale = (float)(1.0 / sqrt(ss / n + (double)eps));
    for (int i = threadIdx.x; i < n; i += blockDim.x) dr[i] = xr[i] * scale * w[i];
}

// rmsnorm_q8 is rmsnorm followed by quantize_q8 of its output, in one
// launch, and when res is not null first the residual add x += res (x then
// holds the sum): each value is computed by the same float operations as
// the three kernels, so the results are the same bits. One block per row
// of n values, n a multiple of 32; the block is a whole number of warps,
// and the warp whose lanes hold a group's values quantizes it. dst may
// alias x or res.
extern "C" __global__ void rmsnorm_q8(float* dst, float* x, const float* res, const float* __restrict__ w, int n,
                                      float eps, i8* __restrict__ qs, float* __restrict__ d, float* __restrict__ s) {
    float* xr = x + (size_t)blockIdx.x * n;
    float* dr = dst + (size_t)blockIdx.x * n;
    const float* rr = res != nullptr ? res + (size_t)blockIdx.x * n : nullptr;
    double ss = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float v = xr[i];
        if (rr != nullptr) {
            v = v + rr[i];
            xr[i] = v;
        }
        const double dv = v;
        ss += dv * dv;
    }
    ss = block_sum(ss); // also orders every read of res before the writes of dst below
    const float scale = (float)(1.0 / sqrt(ss / n + (double)eps));
    const int lane = threadIdx.x & 31;
    for (int base = threadIdx.x - lane; base < n; base += blockDim.x) {
        const int i = base + lane;
        const float v = xr[i] * scale * w[i];
        dr[i] = v;
        quantize_group(v, lane, blockIdx.x * (n >> 5) + (base >> 5), qs, d, s);
    }
}

// rope_rows rotates each head of rows of heads*head_dim values in place,
// row r at position pos0 + r, as nn.Rope.Apply: pairs (2i, 2i+1), or
// (i, i+dims/2) when neox is set, by angle pos * freqs[i], in double. One
// thread per pair; blockIdx.y is the row.
__device__ __forceinline__ void rope_rows(float* x, const double* __restrict__ freqs, int heads, int head_dim, int dims,
                                          int pos0, int neox) {
    const int half = dims / 2;
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= heads * half) return;
    const int h = p / half, i = p % half;
    float* head = x + ((size_t)blockIdx.y * heads + h) * head_dim;
    const int a = neox ? i : 2 * i;
    const int b = neox ? i + half : 2 * i + 1;
    double sn, cs;
    sincos((double)(pos0 + (int)blockIdx.y) * freqs[i], &sn, &cs);
    const double x0 = head[a], x1 = head[b];
    head[a] = (float)(x0 * cs - x1 * sn);
    head[b] = (float)(x0 * sn + x1 * cs);
}

// rope is rope_rows from position pos0.
extern "C" __global__ void rope(float* x, const double* __restrict__ freqs, int heads, int head_dim, int dims,
                                int pos0, int neox) {
    rope_rows(x, freqs, heads, head_dim, dims, pos0, neox);
}

// rope_at is rope_rows from the position in device memory at pos, so that
// a graph of it needs no update when the position moves.
extern "C" __global__ void rope_at(float* x, const double* __restrict__ freqs, int heads, int head_dim, int dims,
                                   const int* __restrict__ pos, int neox) {
    rope_rows(x, freqs, heads, head_dim, dims, *pos, neox);
}

// block_softmax replaces x[0..n) by exp(x - max) / sum, as nn.Softmax: the
// exponentials and their sum in double. Each thread handles the indices
// threadIdx.x + k*blockDim.x and passes the maximum of its own values.
__device__ void block_softmax(float* x, int n, float thread_max) {
    const float m = block_max(thread_max);
    double sum = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const double e = exp((double)(x[i] - m));
        x[i] = (float)e;
        sum += e;
    }
    sum = block_sum(sum);
    const float inv = (float)(1.0 / sum);
    for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] *= inv;
}

// softmax replaces each row of n values by its softmax. One block per row.
extern "C" __global__ void softmax(float* x, int n) {
    float* xr = x + (size_t)blockIdx.x * n;
    float m = neg_inf();
    for (int i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, xr[i]);
    block_softmax(xr, n, m);
}

// attention_heads is one decode step of grouped-query attention, one
// block per query head h, as the CPU decoder computes it: scores[t] =
// (q_h . k_t) * scale for the npos cached positions, softmax, out_h =
// sum_t p_t * v_t. Key and value vectors of head h start at (h / group) *
// head_dim within a cached position's kv_stride floats. Dynamic shared
// memory holds the query (head_dim floats) and the scores (npos floats).
__device__ __forceinline__ void attention_heads(float* __restrict__ out, const float* __restrict__ q,
                                                const float* __restrict__ k, const float* __restrict__ v, int group,
                                                int head_dim, int kv_stride, int npos, float scale) {
    extern __shared__ float smem[];
    float* qh = smem;
    float* sc = smem + head_dim;
    const int h = blockIdx.x;
    const size_t off = (size_t)(h / group) * head_dim;
    for (int i = threadIdx.x; i < head_dim; i += blockDim.x) qh[i] = q[(size_t)h * head_dim + i];
    __syncthreads();
    float m = neg_inf();
    for (int t = threadIdx.x; t < npos; t += blockDim.x) {
        const float* kt = k + (size_t)t * kv_stride + off;
        float d = 0.0f;
        for (int i = 0; i < head_dim; i++) d = d + qh[i] * kt[i];
        const float s = d * scale;
        sc[t] = s;
        m = fmaxf(m, s);
    }
    block_softmax(sc, npos, m);
    __syncthreads(); // every score is read by every thread below
    for (int i = threadIdx.x; i < head_dim; i += blockDim.x) {
        float o = 0.0f;
        for (int t = 0; t < npos; t++) o = o + sc[t] * v[(size_t)t * kv_stride + off + i];
        out[(size_t)h * head_dim + i] = o;
    }
}

// attention attends over npos positions.
extern "C" __global__ void attention(float* __restrict__ out, const float* __restrict__ q, const float* __restrict__ k,
                                     const float* __restrict__ v, int group, int head_dim, int kv_stride, int npos,
                                     float scale) {
    attention_heads(out, q, k, v, group, head_dim, kv_stride, npos, scale);
}

// attention_at attends over the positions 0 .. *pos (the position in
// device memory, included); its dynamic shared memory has room for the
// scores of the sequence's capacity.
extern "C" __global__ void attention_at(float* __restrict__ out, const float* __restrict__ q, const float* __restrict__ k,
                                        const float* __restrict__ v, int group, int head_dim, int kv_stride,
                                        const int* __restrict__ pos, float scale) {
    attention_heads(out, q, k, v, group, head_dim, kv_stride, *pos + 1, scale);
}

// kv_store copies a new key and value (n floats each) into position *pos
// of the caches, whose positions are n floats apart.
extern "C" __global__ void kv_store(float* __restrict__ k_cache, float* __restrict__ v_cache,
                                    const float* __restrict__ k_new, const float* __restrict__ v_new, int n,
                                    const int* __restrict__ pos) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const size_t at = (size_t)*pos * n + i;
    k_cache[at] = k_new[i];
    v_cache[at] = v_new[i];
}

// swiglu_value returns silu(g) * u as nn.SwiGLU computes it.
__device__ __forceinline__ float swiglu_value(float g, float u) { return g / (1.0f + (float)exp(-(double)g)) * u; }

// swiglu sets dst[i] = silu(gate[i]) * up[i] as nn.SwiGLU; dst may alias
// gate or up.
extern "C" __global__ void swiglu(float* dst, const float* gate, const float* up, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dst[i] = swiglu_value(gate[i], up[i]);
}

// swiglu_q8 is swiglu followed by quantize_q8 of its output, in one launch
// (the same bits as the two): one warp per group of 32 values, Q8_WARPS
// groups per block, groups = n/32. dst may alias gate or up.
extern "C" __global__ void __launch_bounds__(32 * Q8_WARPS)
    swiglu_q8(float* dst, const float* gate, const float* up, int groups, i8* __restrict__ qs, float* __restrict__ d,
              float* __restrict__ s) {
    const int g = blockIdx.x * Q8_WARPS + (threadIdx.x >> 5);
    if (g >= groups) return;
    const int lane = threadIdx.x & 31;
    const size_t i = (size_t)g * 32 + lane;
    const float v = swiglu_value(gate[i], up[i]);
    dst[i] = v;
    quantize_group(v, lane, g, qs, d, s);
}

// add sets dst[i] = a[i] + b[i]; dst may alias a or b.
extern "C" __global__ void add(float* dst, const float* a, const float* b, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dst[i] = a[i] + b[i];
}
