/* OpenCV's BLAS and LAPACK calls, answered by numpy's OpenBLAS (the CPU desktop bundle).

   OpenCV's Linux wheel links its own OpenBLAS (libopenblasp-r0, 39 MB with libgfortran) for 4
   matrix products and 15 LAPACK routines; numpy carries another OpenBLAS (scipy-openblas64), built
   with 64-bit integers and its names prefixed "scipy_" and suffixed "64_". This library takes the
   OpenBLAS file's name and soname, so cv2 loads it instead, and passes each call on to numpy's copy:
   integers by value are widened, integer pointers (sizes, leading dimensions, info) go through
   64-bit copies, and the integer arrays LAPACK fills (pivots) or works in are copied back or
   allocated at the 64-bit width. Fortran's hidden string lengths (after the last argument) are
   passed on as they came. packaging/slim/opencv_libs.py builds it and checks that it defines every
   name cv2 takes from OpenBLAS; tests/test_packaging.py calls each routine against numpy. */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef int64_t i64;

/* ---------------------------------------------------------------- CBLAS: enums stay int, sizes widen */
void scipy_cblas_sgemm64_(int, int, int, i64, i64, i64, float, const float *, i64, const float *, i64,
                          float, float *, i64);
void scipy_cblas_dgemm64_(int, int, int, i64, i64, i64, double, const double *, i64, const double *, i64,
                          double, double *, i64);
void scipy_cblas_cgemm64_(int, int, int, i64, i64, i64, const void *, const void *, i64, const void *, i64,
                          const void *, void *, i64);
void scipy_cblas_zgemm64_(int, int, int, i64, i64, i64, const void *, const void *, i64, const void *, i64,
                          const void *, void *, i64);

void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc)
{
    scipy_cblas_sgemm64_(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc)
{
    scipy_cblas_dgemm64_(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_cgemm(int order, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int lda,
                 const void *b, int ldb, const void *beta, void *c, int ldc)
{
    scipy_cblas_cgemm64_(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_zgemm(int order, int ta, int tb, int m, int n, int k, const void *alpha, const void *a, int lda,
                 const void *b, int ldb, const void *beta, void *c, int ldc)
{
    scipy_cblas_zgemm64_(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* ---------------------------------------------------------------- LAPACK helpers */
/* A 64-bit integer array of n entries (at least one), or NULL when out of memory (info = -1000). */
static i64 *wide_array(int n)
{
    return (i64 *)malloc(sizeof(i64) * (size_t)(n > 0 ? n : 1));
}

static void narrow_into(int *dst, const i64 *src, int n)
{
    for (int i = 0; i < n; i++)
        dst[i] = (int)src[i];
}

#define NO_MEMORY (-1000)

/* ---------------------------------------------------------------- LU: getrf, gesv */
void scipy_sgetrf_64_(i64 *, i64 *, float *, i64 *, i64 *, i64 *);
void scipy_dgetrf_64_(i64 *, i64 *, double *, i64 *, i64 *, i64 *);
void scipy_sgesv_64_(i64 *, i64 *, float *, i64 *, i64 *, float *, i64 *, i64 *);
void scipy_dgesv_64_(i64 *, i64 *, double *, i64 *, i64 *, double *, i64 *, i64 *);

#define GETRF(T, name, target)                                                                  \
    void name(int *m, int *n, T *a, int *lda, int *ipiv, int *info)                             \
    {                                                                                            \
        i64 m_ = *m, n_ = *n, lda_ = *lda, info_ = 0;                                            \
        int k = *m < *n ? *m : *n;                                                               \
        i64 *ipiv_ = wide_array(k);                                                              \
        if (!ipiv_) { *info = NO_MEMORY; return; }                                               \
        target(&m_, &n_, a, &lda_, ipiv_, &info_);                                               \
        narrow_into(ipiv, ipiv_, k);                                                             \
        free(ipiv_);                                                                             \
        *info = (int)info_;                                                                      \
    }
GETRF(float, sgetrf_, scipy_sgetrf_64_)
GETRF(double, dgetrf_, scipy_dgetrf_64_)

#define GESV(T, name, target)                                                                   \
    void name(int *n, int *nrhs, T *a, int *lda, int *ipiv, T *b, int *ldb, int *info)           \
    {                                                                                            \
        i64 n_ = *n, nrhs_ = *nrhs, lda_ = *lda, ldb_ = *ldb, info_ = 0;                         \
        i64 *ipiv_ = wide_array(*n);                                                             \
        if (!ipiv_) { *info = NO_MEMORY; return; }                                               \
        target(&n_, &nrhs_, a, &lda_, ipiv_, b, &ldb_, &info_);                                  \
        narrow_into(ipiv, ipiv_, *n);                                                            \
        free(ipiv_);                                                                             \
        *info = (int)info_;                                                                      \
    }
GESV(float, sgesv_, scipy_sgesv_64_)
GESV(double, dgesv_, scipy_dgesv_64_)

/* ---------------------------------------------------------------- Cholesky: potrf, posv */
void scipy_spotrf_64_(const char *, i64 *, float *, i64 *, i64 *, size_t);
void scipy_dpotrf_64_(const char *, i64 *, double *, i64 *, i64 *, size_t);
void scipy_sposv_64_(const char *, i64 *, i64 *, float *, i64 *, float *, i64 *, i64 *, size_t);
void scipy_dposv_64_(const char *, i64 *, i64 *, double *, i64 *, double *, i64 *, i64 *, size_t);

#define POTRF(T, name, target)                                                                  \
    void name(const char *uplo, int *n, T *a, int *lda, int *info, size_t uplo_len)              \
    {                                                                                            \
        i64 n_ = *n, lda_ = *lda, info_ = 0;                                                     \
        target(uplo, &n_, a, &lda_, &info_, uplo_len);                                           \
        *info = (int)info_;                                                                      \
    }
POTRF(float, spotrf_, scipy_spotrf_64_)
POTRF(double, dpotrf_, scipy_dpotrf_64_)

#define POSV(T, name, target)                                                                   \
    void name(const char *uplo, int *n, int *nrhs, T *a, int *lda, T *b, int *ldb, int *info,    \
              size_t uplo_len)                                                                   \
    {                                                                                            \
        i64 n_ = *n, nrhs_ = *nrhs, lda_ = *lda, ldb_ = *ldb, info_ = 0;                         \
        target(uplo, &n_, &nrhs_, a, &lda_, b, &ldb_, &info_, uplo_len);                         \
        *info = (int)info_;                                                                      \
    }
POSV(float, sposv_, scipy_sposv_64_)
POSV(double, dposv_, scipy_dposv_64_)

/* ---------------------------------------------------------------- QR and least squares: geqrf, gels */
void scipy_sgeqrf_64_(i64 *, i64 *, float *, i64 *, float *, float *, i64 *, i64 *);
void scipy_dgeqrf_64_(i64 *, i64 *, double *, i64 *, double *, double *, i64 *, i64 *);
void scipy_sgels_64_(const char *, i64 *, i64 *, i64 *, float *, i64 *, float *, i64 *, float *, i64 *, i64 *,
                     size_t);
void scipy_dgels_64_(const char *, i64 *, i64 *, i64 *, double *, i64 *, double *, i64 *, double *, i64 *,
                     i64 *, size_t);

#define GEQRF(T, name, target)                                                                  \
    void name(int *m, int *n, T *a, int *lda, T *tau, T *work, int *lwork, int *info)            \
    {                                                                                            \
        i64 m_ = *m, n_ = *n, lda_ = *lda, lwork_ = *lwork, info_ = 0;                           \
        target(&m_, &n_, a, &lda_, tau, work, &lwork_, &info_);                                  \
        *info = (int)info_;                                                                      \
    }
GEQRF(float, sgeqrf_, scipy_sgeqrf_64_)
GEQRF(double, dgeqrf_, scipy_dgeqrf_64_)

#define GELS(T, name, target)                                                                   \
    void name(const char *trans, int *m, int *n, int *nrhs, T *a, int *lda, T *b, int *ldb,      \
              T *work, int *lwork, int *info, size_t trans_len)                                  \
    {                                                                                            \
        i64 m_ = *m, n_ = *n, nrhs_ = *nrhs, lda_ = *lda, ldb_ = *ldb, lwork_ = *lwork, info_ = 0; \
        target(trans, &m_, &n_, &nrhs_, a, &lda_, b, &ldb_, work, &lwork_, &info_, trans_len);  \
        *info = (int)info_;                                                                      \
    }
GELS(float, sgels_, scipy_sgels_64_)
GELS(double, dgels_, scipy_dgels_64_)

/* ---------------------------------------------------------------- SVD: gesdd (iwork: 8 min(m, n) integers) */
void scipy_sgesdd_64_(const char *, i64 *, i64 *, float *, i64 *, float *, float *, i64 *, float *, i64 *,
                      float *, i64 *, i64 *, i64 *, size_t);
void scipy_dgesdd_64_(const char *, i64 *, i64 *, double *, i64 *, double *, double *, i64 *, double *, i64 *,
                      double *, i64 *, i64 *, i64 *, size_t);

#define GESDD(T, name, target)                                                                  \
    void name(const char *jobz, int *m, int *n, T *a, int *lda, T *s, T *u, int *ldu, T *vt,     \
              int *ldvt, T *work, int *lwork, int *iwork, int *info, size_t jobz_len)            \
    {                                                                                            \
        i64 m_ = *m, n_ = *n, lda_ = *lda, ldu_ = *ldu, ldvt_ = *ldvt, lwork_ = *lwork, info_ = 0; \
        i64 *iwork_ = wide_array(8 * (*m < *n ? *m : *n));                                       \
        (void)iwork; /* workspace only: nothing to copy back */                                  \
        if (!iwork_) { *info = NO_MEMORY; return; }                                              \
        target(jobz, &m_, &n_, a, &lda_, s, u, &ldu_, vt, &ldvt_, work, &lwork_, iwork_, &info_, jobz_len); \
        free(iwork_);                                                                            \
        *info = (int)info_;                                                                      \
    }
GESDD(float, sgesdd_, scipy_sgesdd_64_)
GESDD(double, dgesdd_, scipy_dgesdd_64_)

/* ---------------------------------------------------------------- eigen: dgeev */
void scipy_dgeev_64_(const char *, const char *, i64 *, double *, i64 *, double *, double *, double *, i64 *,
                     double *, i64 *, double *, i64 *, i64 *, size_t, size_t);

void dgeev_(const char *jobvl, const char *jobvr, int *n, double *a, int *lda, double *wr, double *wi,
            double *vl, int *ldvl, double *vr, int *ldvr, double *work, int *lwork, int *info,
            size_t jobvl_len, size_t jobvr_len)
{
    i64 n_ = *n, lda_ = *lda, ldvl_ = *ldvl, ldvr_ = *ldvr, lwork_ = *lwork, info_ = 0;
    scipy_dgeev_64_(jobvl, jobvr, &n_, a, &lda_, wr, wi, vl, &ldvl_, vr, &ldvr_, work, &lwork_, &info_,
                    jobvl_len, jobvr_len);
    *info = (int)info_;
}
