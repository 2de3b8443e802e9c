#include "ggml-impl.h"
#include "ggml-blas.h"
#include "ggml-backend-impl.h"

#include <future>
#include <vector>
#include <cstring>
#include <cstdlib>

#if defined(GGML_BLAS_USE_ACCELERATE)
#   include <Accelerate/Accelerate.h>
#elif defined(GGML_BLAS_USE_MKL)
#   include <mkl.h>
#elif defined(GGML_BLAS_USE_BLIS)
#   include <blis.h>
#elif defined(GGML_BLAS_USE_NVPL)
#   include <nvpl_blas.h>
#else
#   include <cblas.h>
#endif

#if defined(GGML_BLAS_USE_DNNL)
#   include <dnnl.h>
#   include <cmath>
#   include <cstdint>
#   if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
extern "C" void omp_set_num_threads(int);
#   endif
#endif

struct ggml_backend_blas_context {
    int n_threads = GGML_DEFAULT_N_THREADS;
    std::unique_ptr<char[]> work_data;
    size_t work_size = 0;
#ifndef GGML_USE_OPENMP
    std::vector<std::future<void>> tasks;
#endif
#if defined(GGML_BLAS_USE_DNNL)
    std::vector<int8_t>  w_q;     // weights, int8 per output row
    std::vector<float>   w_scale; // one scale per output row
    std::vector<uint8_t> a_q;     // activations, int8 per row shifted by 128
    std::vector<float>   a_scale; // one scale per activation row
    std::vector<int32_t> acc;     // int32 products
    std::vector<float>   row;     // one dequantized weight row

    // f32 products in bf16: operands converted, matmul primitives made once per shape
    struct bf16_matmul {
        int64_t          m, n, k, ldc;
        dnnl_primitive_t prim;
    };
    dnnl_engine_t            engine = nullptr;
    dnnl_stream_t            stream = nullptr;
    std::vector<bf16_matmul> bf16_prims;
    std::vector<uint16_t>    xb;      // src0 in bf16
    std::vector<uint16_t>    yb;      // src1 in bf16

    ~ggml_backend_blas_context() {
        for (auto & p : bf16_prims) {
            dnnl_primitive_destroy(p.prim);
        }
        if (stream) {
            dnnl_stream_destroy(stream);
        }
        if (engine) {
            dnnl_engine_destroy(engine);
        }
    }
#endif
};

#if defined(GGML_BLAS_USE_DNNL)
// Symmetric int8 quantization of one row: q = x/scale rounded to nearest, |q| <= levels, plus
// `shift` (128 gives the unsigned activations of u8 x s8 products); returns the scale. The
// library is built for the baseline CPU, so the AVX-512 and AVX2 versions are chosen at run time.
template <typename T>
static float ggml_blas_quantize_row_scalar(const float * x, int64_t n, int levels, int shift, T * q) {
    float amax = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        amax = std::max(amax, std::fabs(x[i]));
    }
    const float inv = amax > 0.0f ? levels / amax : 0.0f;
    for (int64_t i = 0; i < n; i++) {
        q[i] = (T) ((int32_t) std::nearbyint(x[i] * inv) + shift);
    }
    return amax / levels;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

template <typename T>
__attribute__((target("avx512f")))
static float ggml_blas_quantize_row_avx512(const float * x, int64_t n, int levels, int shift, T * q) {
    __m512 vmax = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(x + i)));
    }
    float amax = _mm512_reduce_max_ps(vmax);
    for (int64_t j = i; j < n; j++) {
        amax = std::max(amax, std::fabs(x[j]));
    }
    const float inv = amax > 0.0f ? levels / amax : 0.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    const __m512i vshift = _mm512_set1_epi32(shift);
    for (i = 0; i + 16 <= n; i += 16) {
        const __m512i v = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), vinv)), vshift);
        const __m128i b = shift ? _mm512_cvtusepi32_epi8(v) : _mm512_cvtsepi32_epi8(v);
        _mm_storeu_si128((__m128i *) (q + i), b);
    }
    for (; i < n; i++) {
        q[i] = (T) ((int32_t) std::nearbyint(x[i] * inv) + shift);
    }
    return amax / levels;
}

template <typename T>
__attribute__((target("avx2")))
static float ggml_blas_quantize_row_avx2(const float * x, int64_t n, int levels, int shift, T * q) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 vmax = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    float amax = 0.0f;
    for (int j = 0; j < 8; j++) {
        amax = std::max(amax, lanes[j]);
    }
    for (int64_t j = i; j < n; j++) {
        amax = std::max(amax, std::fabs(x[j]));
    }
    const float inv = amax > 0.0f ? levels / amax : 0.0f;
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i vshift = _mm256_set1_epi32(shift);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (i = 0; i + 32 <= n; i += 32) {
        __m256i v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8*k), vinv)), vshift);
        }
        const __m256i lo = _mm256_packs_epi32(v[0], v[1]);
        const __m256i hi = _mm256_packs_epi32(v[2], v[3]);
        const __m256i b  = shift ? _mm256_packus_epi16(lo, hi) : _mm256_packs_epi16(lo, hi);
        _mm256_storeu_si256((__m256i *) (q + i), _mm256_permutevar8x32_epi32(b, order));
    }
    for (; i < n; i++) {
        q[i] = (T) ((int32_t) std::nearbyint(x[i] * inv) + shift);
    }
    return amax / levels;
}
#endif

template <typename T>
static float ggml_blas_quantize_row(const float * x, int64_t n, int levels, int shift, T * q) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const int isa = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    if (isa == 2) {
        return ggml_blas_quantize_row_avx512(x, n, levels, shift, q);
    }
    if (isa == 1) {
        return ggml_blas_quantize_row_avx2(x, n, levels, shift, q);
    }
#endif
    return ggml_blas_quantize_row_scalar(x, n, levels, shift, q);
}

// Without VNNI, oneDNN's u8 x s8 kernels add pairs of products in int16, which saturates with
// 8-bit activations; 7-bit activations keep every pair in range.
static int ggml_blas_activation_levels(void) {
#if defined(__x86_64__) || defined(_M_X64)
    static const int levels = (__builtin_cpu_supports("avx512vnni") || __builtin_cpu_supports("avxvnni")) ? 127 : 63;
    return levels;
#else
    return 127;
#endif
}

// A product with q8_0 weights as an int8 GEMM: each weight row requantized with one scale
// (q8_0 has one per 32 values), each activation row quantized with its own scale, the int32
// products scaled back. This is the dynamic int8 scheme of CTranslate2's int8 compute type;
// with VNNI the GEMM runs about four times as fast as the f32 one.
// Returns false (dst untouched) when oneDNN refuses the product; the f32 path then runs it.
static bool ggml_backend_blas_mul_mat_q8_0_int8(ggml_backend_blas_context * ctx, struct ggml_tensor * dst) {
    const struct ggml_tensor * src0 = dst->src[0];
    const struct ggml_tensor * src1 = dst->src[1];

    const int64_t K = src0->ne[0];
    const int64_t N = src0->ne[1];
    const int64_t M = ggml_nrows(src1);

    ctx->w_q.resize(N*K);
    ctx->w_scale.resize(N);
    ctx->a_q.resize(M*K);
    ctx->a_scale.resize(M);
    ctx->acc.resize(M*N);

    const auto to_float = ggml_get_type_traits(src0->type)->to_float;
    const int levels = ggml_blas_activation_levels();

    ctx->row.resize(K);
    for (int64_t n = 0; n < N; n++) {
        to_float((const char *) src0->data + n*src0->nb[1], ctx->row.data(), K);
        ctx->w_scale[n] = ggml_blas_quantize_row(ctx->row.data(), K, 127, 0, ctx->w_q.data() + n*K);
    }
    for (int64_t m = 0; m < M; m++) {
        ctx->a_scale[m] = ggml_blas_quantize_row((const float *) src1->data + m*K, K, levels, 128, ctx->a_q.data() + m*K);
    }

#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
    omp_set_num_threads(ctx->n_threads);
#endif
    const int32_t c_offset = 0;
    const dnnl_status_t status = dnnl_gemm_u8s8s32('N', 'T', 'F', M, N, K, 1.0f,
            ctx->a_q.data(), K, 128, ctx->w_q.data(), K, 0,
            0.0f, ctx->acc.data(), N, &c_offset);
    if (status != dnnl_success) {
        return false;
    }

    float * d = (float *) dst->data;
    for (int64_t m = 0; m < M; m++) {
        const float sa = ctx->a_scale[m];
        const int32_t * acc = ctx->acc.data() + m*N;
        float * out = d + m*N;
        for (int64_t n = 0; n < N; n++) {
            out[n] = (float) acc[n] * (sa * ctx->w_scale[n]);
        }
    }
    return true;
}

// Rounds f32 to bf16 (nearest, ties to even); the AVX-512 version is chosen at run time.
static void ggml_blas_to_bf16_scalar(const float * x, uint16_t * y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        std::memcpy(&u, x + i, sizeof(u));
        y[i] = (uint16_t) ((u + 0x7fff + ((u >> 16) & 1)) >> 16);
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx512f")))
static void ggml_blas_to_bf16_avx512(const float * x, uint16_t * y, int64_t n) {
    const __m512i bias = _mm512_set1_epi32(0x7fff);
    const __m512i one  = _mm512_set1_epi32(1);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i u   = _mm512_loadu_si512((const void *) (x + i));
        const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
        const __m512i r   = _mm512_srli_epi32(_mm512_add_epi32(_mm512_add_epi32(u, bias), odd), 16);
        _mm256_storeu_si256((__m256i *) (y + i), _mm512_cvtepi32_epi16(r));
    }
    ggml_blas_to_bf16_scalar(x + i, y + i, n - i);
}
#endif

static void ggml_blas_to_bf16(const float * x, uint16_t * y, int64_t n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    if (avx512) {
        ggml_blas_to_bf16_avx512(x, y, n);
        return;
    }
#endif
    ggml_blas_to_bf16_scalar(x, y, n);
}

// Whether f32 products run in bf16: on CPUs with bf16 dot-product instructions (AVX512-BF16),
// unless GGML_BLAS_BF16=0.
static bool ggml_blas_bf16_enabled(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static const bool enabled = [] {
        const char * env = std::getenv("GGML_BLAS_BF16");
        if (env != nullptr && std::strcmp(env, "0") == 0) {
            return false;
        }
        return (bool) __builtin_cpu_supports("avx512bf16");
    }();
    return enabled;
#else
    return false;
#endif
}

// The matmul primitive for C[m x n] (row stride ldc, f32) = A[m x k] (bf16) * B[n x k]^T (bf16).
static dnnl_primitive_t ggml_blas_bf16_primitive(ggml_backend_blas_context * ctx, int64_t m, int64_t n, int64_t k, int64_t ldc) {
    for (const auto & p : ctx->bf16_prims) {
        if (p.m == m && p.n == n && p.k == k && p.ldc == ldc) {
            return p.prim;
        }
    }
    if (ctx->engine == nullptr) {
        if (dnnl_engine_create(&ctx->engine, dnnl_cpu, 0) != dnnl_success) {
            ctx->engine = nullptr;
            return nullptr;
        }
        if (dnnl_stream_create(&ctx->stream, ctx->engine, dnnl_stream_default_flags) != dnnl_success) {
            ctx->stream = nullptr;
            return nullptr;
        }
    }

    dnnl_memory_desc_t a_md, b_md, c_md;
    const dnnl_dims_t a_dims = { m, k };
    const dnnl_dims_t b_dims = { k, n };
    const dnnl_dims_t c_dims = { m, n };
    const dnnl_dims_t c_strides = { ldc, 1 };
    dnnl_matmul_desc_t desc;
    dnnl_primitive_desc_t pd = nullptr;
    dnnl_primitive_t prim = nullptr;
    if (dnnl_memory_desc_init_by_tag(&a_md, 2, a_dims, dnnl_bf16, dnnl_ab) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&b_md, 2, b_dims, dnnl_bf16, dnnl_ba) != dnnl_success ||
        dnnl_memory_desc_init_by_strides(&c_md, 2, c_dims, dnnl_f32, c_strides) != dnnl_success ||
        dnnl_matmul_desc_init(&desc, &a_md, &b_md, nullptr, &c_md) != dnnl_success ||
        dnnl_primitive_desc_create(&pd, &desc, nullptr, ctx->engine, nullptr) != dnnl_success) {
        return nullptr;
    }
    const dnnl_status_t status = dnnl_primitive_create(&prim, pd);
    dnnl_primitive_desc_destroy(pd);
    if (status != dnnl_success) {
        return nullptr;
    }

    // a graph has a handful of shapes; a cache that outgrows that starts over
    if (ctx->bf16_prims.size() >= 64) {
        for (auto & p : ctx->bf16_prims) {
            dnnl_primitive_destroy(p.prim);
        }
        ctx->bf16_prims.clear();
    }
    ctx->bf16_prims.push_back({ m, n, k, ldc, prim });
    return prim;
}

// An f32 product in bf16 with f32 accumulation: both operands rounded to bf16, each plane a
// oneDNN matmul. With AVX512-BF16 the encoder's attention products take 40-60 % of the time
// of OpenBLAS's sgemm. Returns false (dst untouched) when oneDNN refuses the product; the f32
// path then runs it.
static bool ggml_backend_blas_mul_mat_f32_bf16(ggml_backend_blas_context * ctx, struct ggml_tensor * dst) {
    const struct ggml_tensor * src0 = dst->src[0];
    const struct ggml_tensor * src1 = dst->src[1];

    GGML_TENSOR_BINARY_OP_LOCALS

    const int64_t r2 = ne12/ne02;
    const int64_t r3 = ne13/ne03;

    dnnl_primitive_t prim = ggml_blas_bf16_primitive(ctx, ne11, ne01, ne10, nb1/sizeof(float));
    if (prim == nullptr) {
        return false;
    }

    const dnnl_memory_desc_t * a_md = nullptr;
    const dnnl_memory_desc_t * b_md = nullptr;
    const dnnl_memory_desc_t * c_md = nullptr;
    {
        const_dnnl_primitive_desc_t pd;
        if (dnnl_primitive_get_primitive_desc(prim, &pd) != dnnl_success) {
            return false;
        }
        a_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        b_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
        c_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    }

    ctx->xb.resize(ne01*ne00);
    ctx->yb.resize(ne11*ne10);

#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
    omp_set_num_threads(ctx->n_threads);
#endif

    for (int64_t i13 = 0; i13 < ne13; i13++) {
        for (int64_t i12 = 0; i12 < ne12; i12++) {
            const int64_t i03 = i13/r3;
            const int64_t i02 = i12/r2;

            for (int64_t i01 = 0; i01 < ne01; i01++) {
                ggml_blas_to_bf16((const float *) ((const char *) src0->data + i01*nb01 + i02*nb02 + i03*nb03), ctx->xb.data() + i01*ne00, ne00);
            }
            for (int64_t i11 = 0; i11 < ne11; i11++) {
                ggml_blas_to_bf16((const float *) ((const char *) src1->data + i11*nb11 + i12*nb12 + i13*nb13), ctx->yb.data() + i11*ne10, ne10);
            }
            float * d = (float *) ((char *) dst->data + i12*nb2 + i13*nb3);

            dnnl_memory_t a_mem = nullptr, b_mem = nullptr, c_mem = nullptr;
            bool ok = dnnl_memory_create(&a_mem, a_md, ctx->engine, ctx->yb.data()) == dnnl_success &&
                      dnnl_memory_create(&b_mem, b_md, ctx->engine, ctx->xb.data()) == dnnl_success &&
                      dnnl_memory_create(&c_mem, c_md, ctx->engine, d) == dnnl_success;
            if (ok) {
                const dnnl_exec_arg_t args[3] = {
                    { DNNL_ARG_SRC,     a_mem },
                    { DNNL_ARG_WEIGHTS, b_mem },
                    { DNNL_ARG_DST,     c_mem },
                };
                ok = dnnl_primitive_execute(prim, ctx->stream, 3, args) == dnnl_success &&
                     dnnl_stream_wait(ctx->stream) == dnnl_success;
            }
            dnnl_memory_destroy(a_mem);
            dnnl_memory_destroy(b_mem);
            dnnl_memory_destroy(c_mem);
            if (!ok) {
                // the f32 path computes every plane again
                return false;
            }
        }
    }
    return true;
}
#endif

#if defined(GGML_BLAS_USE_DNNL)
// Whether f32 products run on oneDNN's sgemm rather than the BLAS library's, unless
// GGML_BLAS_DNNL_SGEMM=0. oneDNN picks its kernels from the instruction sets the CPU reports;
// OpenBLAS picks them from a table of CPU models and runs its generic SSE3 (Prescott) kernels
// on a model newer than its release.
static bool ggml_blas_dnnl_sgemm_enabled(void) {
    static const bool enabled = [] {
        const char * env = std::getenv("GGML_BLAS_DNNL_SGEMM");
        return env == nullptr || std::strcmp(env, "0") != 0;
    }();
    return enabled;
}
#endif

// C[m x n] (row stride ldc) = A[m x k] * B[n x k]^T, f32, row-major.
static void ggml_blas_sgemm_nt(ggml_backend_blas_context * ctx, int64_t m, int64_t n, int64_t k,
        const float * a, int64_t lda, const float * b, int64_t ldb, float * c, int64_t ldc) {
#if defined(GGML_BLAS_USE_DNNL)
    if (ggml_blas_dnnl_sgemm_enabled()) {
#if DNNL_CPU_THREADING_RUNTIME == DNNL_RUNTIME_OMP
        omp_set_num_threads(ctx->n_threads);
#endif
        if (dnnl_sgemm('N', 'T', m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc) == dnnl_success) {
            return;
        }
    }
#endif
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    GGML_UNUSED(ctx);
}

static void ggml_backend_blas_mul_mat(ggml_backend_blas_context * ctx, struct ggml_tensor * dst) {
    const struct ggml_tensor * src0 = dst->src[0];
    const struct ggml_tensor * src1 = dst->src[1];

    GGML_TENSOR_BINARY_OP_LOCALS

    const enum ggml_type type = src0->type;

    GGML_ASSERT(ne0 == ne01);
    GGML_ASSERT(ne1 == ne11);
    GGML_ASSERT(ne2 == ne12);
    GGML_ASSERT(ne3 == ne13);

    // we don't support permuted src0 or src1
    GGML_ASSERT(nb00 == ggml_type_size(type));
    GGML_ASSERT(nb10 == ggml_type_size(src1->type));

    // dst cannot be transposed or permuted
    GGML_ASSERT(nb0 == sizeof(float));
    GGML_ASSERT(nb0 <= nb1);
    GGML_ASSERT(nb1 <= nb2);
    GGML_ASSERT(nb2 <= nb3);

#if defined(GGML_BLAS_USE_DNNL)
    if (type == GGML_TYPE_Q8_0 && ne02 == 1 && ne03 == 1 && ggml_is_contiguous(src1) && ggml_is_contiguous(dst) &&
        ggml_backend_blas_mul_mat_q8_0_int8(ctx, dst)) {
        return;
    }
    if (type == GGML_TYPE_F32 && src1->type == GGML_TYPE_F32 && nb10 == sizeof(float) && ggml_blas_bf16_enabled() &&
        ggml_backend_blas_mul_mat_f32_bf16(ctx, dst)) {
        return;
    }
#endif

    // broadcast factors
    const int64_t r2 = ne12/ne02;
    const int64_t r3 = ne13/ne03;

    const int64_t ne_plane      = ne01*ne00;
    const size_t  desired_wsize = type == GGML_TYPE_F32 ? 0 : ne03*ne02*ne_plane*sizeof(float);

    if (ctx->work_size < desired_wsize) {
        ctx->work_data.reset(new char[desired_wsize]);
        ctx->work_size = desired_wsize;
    }
    void * wdata = ctx->work_data.get();

    // convert src0 to float
    if (type != GGML_TYPE_F32) {
        const auto * type_traits = ggml_get_type_traits(type);
        ggml_to_float_t const to_float = type_traits->to_float;

        for (int64_t i03 = 0; i03 < ne03; i03++) {
            for (int64_t i02 = 0; i02 < ne02; i02++) {
                const void  *       x      = (char *)  src0->data + i02*nb02          + i03*nb03;
                      float * const wplane = (float *) wdata      + i02*ne_plane      + i03*ne02*ne_plane;

                const int min_cols_per_thread = 4096;
                const int min_rows_per_thread = std::max((int)(min_cols_per_thread/ne00), 1);
                const int n_threads = std::max(std::min(ctx->n_threads, (int)(ne01/min_rows_per_thread)), 1);

#ifdef GGML_USE_OPENMP
                #pragma omp parallel for num_threads(n_threads)
                for (int64_t i01 = 0; i01 < ne01; i01++) {
                    to_float((const char *) x + i01*nb01, wplane + i01*ne00, ne00);
                }
#else
                for (int i = 1; i < n_threads; i++) {
                    const int64_t start =       i*ne01/n_threads;
                    const int64_t end   = (i + 1)*ne01/n_threads;
                    if (start < end) {
                        ctx->tasks.push_back(std::async(std::launch::async, [=]() {
                            for (int64_t i01 = start; i01 < end; i01++) {
                                to_float((const char *) x + i01*nb01, wplane + i01*ne00, ne00);
                            }
                        }));
                    }
                }
                {
                    // reuse the current thread for the first task
                    const int64_t start = 0;
                    const int64_t end   = ne01/n_threads;
                    for (int64_t i01 = start; i01 < end; i01++) {
                        to_float((const char *) x + i01*nb01, wplane + i01*ne00, ne00);
                    }
                }
#endif
            }
        }

#ifndef GGML_USE_OPENMP
        // wait for all tasks to finish
        for (auto & task : ctx->tasks) {
            task.get();
        }
        ctx->tasks.clear();
#endif
    }

#if defined(GGML_BLAS_USE_OPENBLAS)
    openblas_set_num_threads(ctx->n_threads);
#elif defined(GGML_BLAS_USE_BLIS)
    bli_thread_set_num_threads(ctx->n_threads);
#elif defined(GGML_BLAS_USE_NVPL)
    nvpl_blas_set_num_threads(ctx->n_threads);
#endif

    for (int64_t i13 = 0; i13 < ne13; i13++) {
        for (int64_t i12 = 0; i12 < ne12; i12++) {
            const int64_t i03 = i13/r3;
            const int64_t i02 = i12/r2;

            const float * x = (float *) ((char *) src0->data + i02*nb02 + i03*nb03);
            const float * y = (float *) ((char *) src1->data + i12*nb12 + i13*nb13);
                  float * d = (float *) ((char *)  dst->data + i12*nb2  + i13*nb3);

            if (type != GGML_TYPE_F32) {
                x = (float *) wdata + i02*ne_plane + i03*ne02*ne_plane;
            }

            ggml_blas_sgemm_nt(ctx, ne1, ne01, ne10, y, ne10, x, ne00, d, ne01);
        }
    }
}

static void ggml_backend_blas_out_prod(ggml_backend_blas_context * ctx, struct ggml_tensor * dst) {
    const struct ggml_tensor * src0 = dst->src[0];
    const struct ggml_tensor * src1 = dst->src[1];

    GGML_TENSOR_BINARY_OP_LOCALS

    GGML_ASSERT(ne0  == ne00);
    GGML_ASSERT(ne1  == ne10);
    GGML_ASSERT(ne2  == ne02);
    GGML_ASSERT(ne02 == ne12);
    GGML_ASSERT(ne3  == ne13);
    GGML_ASSERT(ne03 == ne13);

    // we don't support permuted src0 or src1
    GGML_ASSERT(nb00 == sizeof(float));

    // dst cannot be transposed or permuted
    GGML_ASSERT(nb0 == sizeof(float));
    // GGML_ASSERT(nb0 <= nb1);
    // GGML_ASSERT(nb1 <= nb2);
    // GGML_ASSERT(nb2 <= nb3);

    // Arguments to ggml_compute_forward_out_prod (expressed as major,minor)
    // src0: (k,n)
    // src1: (k,m)
    // dst:  (m,n)
    //
    // Arguments to sgemm (see https://github.com/Reference-LAPACK/lapack/blob/master/BLAS/SRC/sgemm.f)
    // Also expressed as (major,minor)
    // a: (m,k): so src1 transposed
    // b: (k,n): so src0
    // c: (m,n)
    //
    // However, if ggml_is_transposed(src1) is true, then
    // src1->data already contains a transposed version, so sgemm mustn't
    // transpose it further.

    int n = src0->ne[0];
    int k = src0->ne[1];
    int m = src1->ne[0];

    CBLAS_TRANSPOSE transposeA;
    int lda;

    if (!ggml_is_transposed(src1)) {
        transposeA = CblasTrans;
        lda = m;
    } else {
        transposeA = CblasNoTrans;
        lda = k;
    }

    float * a = (float *) ((char *) src1->data);
    float * b = (float *) ((char *) src0->data);
    float * c = (float *) ((char *) dst->data);

    cblas_sgemm(CblasRowMajor, transposeA, CblasNoTrans, m, n, k, 1.0, a, lda, b, n, 0.0, c, n);

    GGML_UNUSED(ctx);
}

// backend interface

static const char * ggml_backend_blas_get_name(ggml_backend_t backend) {
    return "BLAS";

    GGML_UNUSED(backend);
}

static void ggml_backend_blas_free(ggml_backend_t backend) {
    ggml_backend_blas_context * ctx = (ggml_backend_blas_context *)backend->context;
    delete ctx;
    delete backend;
}

static enum ggml_status ggml_backend_blas_graph_compute(ggml_backend_t backend, struct ggml_cgraph * cgraph) {
    ggml_backend_blas_context * ctx = (ggml_backend_blas_context *)backend->context;

    for (int i = 0; i < cgraph->n_nodes; i++) {
        struct ggml_tensor * node = cgraph->nodes[i];

        switch (node->op) {
            case GGML_OP_MUL_MAT:
                ggml_backend_blas_mul_mat(ctx, node);
                break;

            case GGML_OP_OUT_PROD:
                ggml_backend_blas_out_prod(ctx, node);
                break;

            case GGML_OP_NONE:
            case GGML_OP_RESHAPE:
            case GGML_OP_VIEW:
            case GGML_OP_PERMUTE:
            case GGML_OP_TRANSPOSE:
                break;

            default:
                GGML_ABORT("%s: unsupported op %s\n", __func__, ggml_op_desc(node));
        }
    }

    return GGML_STATUS_SUCCESS;

    GGML_UNUSED(backend);
}

static struct ggml_backend_i blas_backend_i = {
    /* .get_name                = */ ggml_backend_blas_get_name,
    /* .free                    = */ ggml_backend_blas_free,
    /* .set_tensor_async        = */ NULL,
    /* .get_tensor_async        = */ NULL,
    /* .cpy_tensor_async        = */ NULL,
    /* .synchronize             = */ NULL,
    /* .graph_plan_create       = */ NULL,
    /* .graph_plan_free         = */ NULL,
    /* .graph_plan_update       = */ NULL,
    /* .graph_plan_compute      = */ NULL,
    /* .graph_compute           = */ ggml_backend_blas_graph_compute,
    /* .event_record            = */ NULL,
    /* .event_wait              = */ NULL,
    /* .graph_optimize          = */ NULL,
};

static ggml_guid_t ggml_backend_blas_guid(void) {
    static ggml_guid guid = { 0x12, 0xa8, 0xae, 0xf4, 0xc0, 0x1e, 0x61, 0x97, 0x8f, 0xeb, 0x33, 0x04, 0xa1, 0x33, 0x51, 0x2d };
    return &guid;
}

ggml_backend_t ggml_backend_blas_init(void) {
    ggml_backend_blas_context * ctx = new ggml_backend_blas_context;

    ggml_backend_t backend = new ggml_backend {
        /* .guid    = */ ggml_backend_blas_guid(),
        /* .iface   = */ blas_backend_i,
        /* .device  = */ ggml_backend_reg_dev_get(ggml_backend_blas_reg(), 0),
        /* .context = */ ctx,
    };

#if defined(GGML_BLAS_USE_OPENBLAS) && defined(GGML_USE_OPENMP)
    if (openblas_get_parallel() != OPENBLAS_OPENMP) {
        GGML_LOG_DEBUG("%s: warning: ggml is using OpenMP, but OpenBLAS was compiled without OpenMP support\n", __func__);
    }
#endif

#if defined(BLIS_ENABLE_CBLAS) && defined(GGML_USE_OPENMP) && !defined(BLIS_ENABLE_OPENMP)
    GGML_LOG_DEBUG("%s: warning: ggml is using OpenMP, but BLIS was compiled without OpenMP support\n", __func__);
#endif

    return backend;
}

bool ggml_backend_is_blas(ggml_backend_t backend) {
    return backend != NULL && ggml_guid_matches(backend->guid, ggml_backend_blas_guid());
}

void ggml_backend_blas_set_n_threads(ggml_backend_t backend_blas, int n_threads) {
    GGML_ASSERT(ggml_backend_is_blas(backend_blas));

    ggml_backend_blas_context * ctx = (ggml_backend_blas_context *)backend_blas->context;
    ctx->n_threads = n_threads;
}

// device interface

static const char * ggml_backend_blas_device_get_name(ggml_backend_dev_t dev) {
    return "BLAS";

    GGML_UNUSED(dev);
}

static const char * ggml_backend_blas_device_get_description(ggml_backend_dev_t dev) {
    #if defined(GGML_BLAS_USE_ACCELERATE)
        return "Accelerate";
    #elif defined(GGML_BLAS_USE_MKL)
        return "MKL";
    #elif defined(GGML_BLAS_USE_BLIS)
        return "BLIS";
    #elif defined(GGML_BLAS_USE_NVPL)
        return "NVPL";
    #elif defined(GGML_BLAS_USE_OPENBLAS)
        return "OpenBLAS";
    #else
        return "BLAS";
    #endif

    GGML_UNUSED(dev);
}

static void ggml_backend_blas_device_get_memory(ggml_backend_dev_t dev, size_t * free, size_t * total) {
    // TODO
    *free = 0;
    *total = 0;

    GGML_UNUSED(dev);
}

static enum ggml_backend_dev_type ggml_backend_blas_device_get_type(ggml_backend_dev_t dev) {
    return GGML_BACKEND_DEVICE_TYPE_ACCEL;

    GGML_UNUSED(dev);
}

static void ggml_backend_blas_device_get_props(ggml_backend_dev_t dev, struct ggml_backend_dev_props * props) {
    props->name        = ggml_backend_blas_device_get_name(dev);
    props->description = ggml_backend_blas_device_get_description(dev);
    props->type        = ggml_backend_blas_device_get_type(dev);
    ggml_backend_blas_device_get_memory(dev, &props->memory_free, &props->memory_total);
    props->caps = {
        /* .async                 = */ false,
        /* .host_buffer           = */ false,
        /* .buffer_from_host_ptr  = */ true,
        /* .events                = */ false,
    };
}

static ggml_backend_t ggml_backend_blas_device_init_backend(ggml_backend_dev_t dev, const char * params) {
    return ggml_backend_blas_init();

    GGML_UNUSED(dev);
    GGML_UNUSED(params);
}

static ggml_backend_buffer_type_t ggml_backend_blas_device_get_buffer_type(ggml_backend_dev_t dev) {
    return ggml_backend_cpu_buffer_type();

    GGML_UNUSED(dev);
}

static ggml_backend_buffer_t ggml_backend_blas_device_buffer_from_host_ptr(ggml_backend_dev_t dev, void * ptr, size_t size, size_t max_tensor_size) {
    return ggml_backend_cpu_buffer_from_ptr(ptr, size);

    GGML_UNUSED(dev);
    GGML_UNUSED(max_tensor_size);
}

static bool ggml_backend_blas_device_supports_op(ggml_backend_dev_t dev, const struct ggml_tensor * op) {
    const struct ggml_tensor * src0 = op->src[0];
    const struct ggml_tensor * src1 = op->src[1];

    switch (op->op) {
        case GGML_OP_NONE:
        case GGML_OP_RESHAPE:
        case GGML_OP_VIEW:
        case GGML_OP_PERMUTE:
        case GGML_OP_TRANSPOSE:
            return true;

        case GGML_OP_MUL_MAT:
        {
            // BLAS usually is only faster for large matrices
            const struct ggml_tensor * src0 = op->src[0];
            const struct ggml_tensor * src1 = op->src[1];

            const int64_t ne10 = src1->ne[0];

            const int64_t ne0 = op->ne[0];
            const int64_t ne1 = op->ne[1];

            // TODO: find the optimal value
            const int64_t min_batch = 32;

            return ggml_is_contiguous(src0) &&
                   ggml_is_contiguous(src1) &&
                   src1->type == GGML_TYPE_F32 &&
                   (ne0 >= min_batch && ne1 >= min_batch && ne10 >= min_batch) &&
                   (src0->type == GGML_TYPE_F32 || ggml_get_type_traits(src0->type)->to_float != NULL);
        }

        case GGML_OP_OUT_PROD:
            return op->src[0]->type == GGML_TYPE_F32 &&
                   op->src[1]->type == GGML_TYPE_F32 &&
                   ggml_is_matrix(src0) &&
                   ggml_is_matrix(src1) &&
                   ggml_is_contiguous(src0) &&
                   (ggml_is_contiguous(src1) || ggml_is_transposed(src1)) &&
                   (src0->type == GGML_TYPE_F32 || ggml_get_type_traits(src0->type)->to_float != NULL);

        default:
            return false;

    }

    GGML_UNUSED(dev);
}

static bool ggml_backend_blas_device_supports_buft(ggml_backend_dev_t dev, ggml_backend_buffer_type_t buft) {
    return ggml_backend_buft_is_host(buft);

    GGML_UNUSED(dev);
}

static const struct ggml_backend_device_i ggml_backend_blas_device_i = {
    /* .get_name             = */ ggml_backend_blas_device_get_name,
    /* .get_description      = */ ggml_backend_blas_device_get_description,
    /* .get_memory           = */ ggml_backend_blas_device_get_memory,
    /* .get_type             = */ ggml_backend_blas_device_get_type,
    /* .get_props            = */ ggml_backend_blas_device_get_props,
    /* .init_backend         = */ ggml_backend_blas_device_init_backend,
    /* .get_buffer_type      = */ ggml_backend_blas_device_get_buffer_type,
    /* .get_host_buffer_type = */ NULL,
    /* .buffer_from_host_ptr = */ ggml_backend_blas_device_buffer_from_host_ptr,
    /* .supports_op          = */ ggml_backend_blas_device_supports_op,
    /* .supports_buft        = */ ggml_backend_blas_device_supports_buft,
    /* .offload_op           = */ NULL,
    /* .event_new            = */ NULL,
    /* .event_free           = */ NULL,
    /* .event_synchronize    = */ NULL,
};

// backend reg interface

static const char * ggml_backend_blas_reg_get_name(ggml_backend_reg_t reg) {
    return "BLAS";

    GGML_UNUSED(reg);
}

static size_t ggml_backend_blas_reg_get_device_count(ggml_backend_reg_t reg) {
    return 1;

    GGML_UNUSED(reg);
}

static ggml_backend_dev_t ggml_backend_blas_reg_get_device(ggml_backend_reg_t reg, size_t index) {
    GGML_ASSERT(index == 0);

    static ggml_backend_device ggml_backend_blas_device = {
        /* .iface   = */ ggml_backend_blas_device_i,
        /* .reg     = */ reg,
        /* .context = */ nullptr,
    };

    return &ggml_backend_blas_device;

    GGML_UNUSED(reg);
    GGML_UNUSED(index);
}

#if defined(GGML_BLAS_USE_DNNL)
// What runs products with q8_0 weights (looked up as "ggml_backend_blas_int8_gemm").
static const char * ggml_backend_blas_int8_gemm(void) {
    return ggml_blas_activation_levels() == 127 ? "oneDNN int8 GEMM (VNNI)" : "oneDNN int8 GEMM (7-bit activations, no VNNI)";
}

// What runs f32 products (looked up as "ggml_backend_blas_f32_gemm").
static const char * ggml_backend_blas_f32_gemm(void) {
    if (ggml_blas_bf16_enabled()) {
        return "oneDNN bf16 matmul (AVX512-BF16)";
    }
    return ggml_blas_dnnl_sgemm_enabled() ? "oneDNN sgemm" : "BLAS sgemm";
}

// What runs sgemm, an f16 model's products among them (looked up as "ggml_backend_blas_sgemm").
static const char * ggml_backend_blas_sgemm(void) {
    return ggml_blas_dnnl_sgemm_enabled() ? "oneDNN sgemm" : "BLAS sgemm";
}
#endif

static void * ggml_backend_blas_get_proc_address(ggml_backend_reg_t reg, const char * name) {
    if (std::strcmp(name, "ggml_backend_set_n_threads") == 0) {
        return (void *)ggml_backend_blas_set_n_threads;
    }
#if defined(GGML_BLAS_USE_DNNL)
    if (std::strcmp(name, "ggml_backend_blas_int8_gemm") == 0) {
        return (void *)ggml_backend_blas_int8_gemm;
    }
    if (std::strcmp(name, "ggml_backend_blas_f32_gemm") == 0) {
        return (void *)ggml_backend_blas_f32_gemm;
    }
    if (std::strcmp(name, "ggml_backend_blas_sgemm") == 0) {
        return (void *)ggml_backend_blas_sgemm;
    }
#endif
    return NULL;

    GGML_UNUSED(reg);
    GGML_UNUSED(name);
}

static const struct ggml_backend_reg_i ggml_backend_blas_reg_i = {
    /* .get_name         = */ ggml_backend_blas_reg_get_name,
    /* .get_device_count = */ ggml_backend_blas_reg_get_device_count,
    /* .get_device       = */ ggml_backend_blas_reg_get_device,
    /* .get_proc_address = */ ggml_backend_blas_get_proc_address,
};

ggml_backend_reg_t ggml_backend_blas_reg(void) {
    static struct ggml_backend_reg ggml_backend_blas_reg = {
        /* .api_version = */ GGML_BACKEND_API_VERSION,
        /* .iface       = */ ggml_backend_blas_reg_i,
        /* .context     = */ NULL,
    };

    return &ggml_backend_blas_reg;
}

GGML_BACKEND_DL_IMPL(ggml_backend_blas_reg)
