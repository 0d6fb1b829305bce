/* The exact running median of features/median.py, in portable C99: many short rows side by side.
 *
 * running_median(x, rows, width, out): out[k, r] = median of x[rows[k .. k + width - 1], r], for
 * a C-contiguous 2-D x (float32 or float64), the row indices rows (int64, the axis already padded
 * by the caller) and an odd width. The sorted windows of a block of neighbouring columns ("lanes")
 * are updated together with no data-dependent branch, so the compiler vectorises across lanes
 * (-O3; SSE2 is every x86-64's baseline). For a sorted window s leaving value old and taking new:
 *
 *   removing old:  t[i] = s[i] < old ? s[i] : s[i + 1]   (from the first copy of old on, shift left)
 *   inserting new: u[i] = min(max(new, t[i - 1]), t[i])   (t[-1] = -inf, t[width - 1] = +inf)
 *
 * and the median is u[width / 2]. Only comparisons and copies: the exact median, equal value for
 * value to scipy.ndimage.median_filter for NaN-free input. The GIL is released while it runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER) && !defined(restrict)
#define restrict __restrict
#endif

/* Lanes updated together: a block's sorted windows (31 x 128 float32 = 16 KB) stay in L1 cache. */
#define LANES 128

/* Lanes of one register-carried pass down the window (see _step): two AVX-512 registers of float.
 * 16 and 32 measured the same with AVX2 and SSE2; 32 lets the AVX-512 copy use its full width. */
#define CHUNK 32

/* On x86-64 Linux (glibc) GCC and Clang also build AVX2 and AVX-512 copies of each kernel and pick one when
 * the module loads (function multi-versioning): the default copy runs on any x86-64, the AVX2 and
 * AVX-512 ones where the CPU has them (more lanes per instruction; both HPSS filters of a 30 s
 * GTZAN clip, one core: 22.5 ms SSE2, 20 AVX2, 11.7 AVX-512, against 19.3 for the AVX2 copy of the
 * row-by-row kernel before the register-carried pass of _step). Elsewhere: the portable build only. */
#if defined(GENRE_DESKTOP_MEDIAN_PORTABLE) /* the tests build the default copy alone this way */
#define MULTI_VERSION
#elif defined(__x86_64__) && defined(__GLIBC__) && !defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 6
#define MULTI_VERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#elif defined(__x86_64__) && defined(__GLIBC__) && defined(__clang__) && __clang_major__ >= 14
#define MULTI_VERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTI_VERSION
#endif

#define DEFINE_KERNEL(NAME, T)                                                                    \
    static void NAME##_sort(T *v, Py_ssize_t n)                                                   \
    {                                                                                             \
        for (Py_ssize_t i = 1; i < n; i++) {                                                      \
            T key = v[i];                                                                         \
            Py_ssize_t j = i - 1;                                                                 \
            while (j >= 0 && v[j] > key) {                                                        \
                v[j + 1] = v[j];                                                                  \
                j--;                                                                              \
            }                                                                                     \
            v[j + 1] = key;                                                                       \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    MULTI_VERSION static void NAME##_step(T *restrict state, T *restrict carry,                   \
                                          const T *restrict old, const T *restrict new_,          \
                                          Py_ssize_t width, Py_ssize_t m)                         \
    {                                                                                             \
        Py_ssize_t c = 0;                                                                         \
        /* CHUNK lanes at a time down the whole window: the chunk's current value, the next row's \
         * value and the carry stay in registers, so each position costs one load and one store  \
         * instead of five loads and two stores (measured: about half the time per window). */    \
        for (; c + CHUNK <= m; c += CHUNK) {                                                      \
            T o[CHUNK], w[CHUNK], cy[CHUNK], s[CHUNK];                                            \
            for (int r = 0; r < CHUNK; r++) {                                                     \
                o[r] = old[c + r];                                                                \
                w[r] = new_[c + r];                                                               \
                cy[r] = -INFINITY;                                                                \
                s[r] = state[c + r];                                                              \
            }                                                                                     \
            for (Py_ssize_t i = 0; i < width - 1; i++) {                                          \
                T *restrict row = state + i * LANES + c;                                          \
                const T *restrict next = row + LANES;                                             \
                for (int r = 0; r < CHUNK; r++) {                                                 \
                    T n = next[r];                                                                \
                    T t = s[r] < o[r] ? s[r] : n;                                                 \
                    T v = w[r] > cy[r] ? w[r] : cy[r];                                            \
                    row[r] = v < t ? v : t;                                                       \
                    cy[r] = t;                                                                    \
                    s[r] = n;                                                                     \
                }                                                                                 \
            }                                                                                     \
            T *restrict last = state + (width - 1) * LANES + c;                                   \
            for (int r = 0; r < CHUNK; r++)                                                       \
                last[r] = w[r] > cy[r] ? w[r] : cy[r];                                            \
        }                                                                                         \
        if (c == m)                                                                               \
            return;                                                                               \
        /* The block's last lanes (fewer than CHUNK): the same update, lane block by row. */     \
        for (Py_ssize_t r = c; r < m; r++)                                                        \
            carry[r] = -INFINITY;                                                                 \
        for (Py_ssize_t i = 0; i < width - 1; i++) {                                              \
            T *restrict row = state + i * LANES;                                                  \
            const T *restrict next = row + LANES;                                                 \
            for (Py_ssize_t r = c; r < m; r++) {                                                  \
                /* Every operand loaded first: a load inside ?: is a branch to the compiler, and  \
                 * a loop with a branch is not vectorised (measured: 6x slower). */               \
                T s = row[r], n = next[r], o = old[r], w = new_[r], cr = carry[r];                \
                T t = s < o ? s : n;                                                              \
                T v = w > cr ? w : cr;                                                            \
                row[r] = v < t ? v : t;                                                           \
                carry[r] = t;                                                                     \
            }                                                                                     \
        }                                                                                         \
        T *restrict last = state + (width - 1) * LANES;                                           \
        for (Py_ssize_t r = c; r < m; r++) {                                                      \
            T w = new_[r], cr = carry[r];                                                         \
            last[r] = w > cr ? w : cr;                                                            \
        }                                                                                         \
    }                                                                                             \
                                                                                                  \
    static int NAME(const T *x, Py_ssize_t lanes, const int64_t *rows, Py_ssize_t width,          \
                    T *out, Py_ssize_t n_out)                                                     \
    {                                                                                             \
        Py_ssize_t half = width / 2;                                                              \
        T *state = malloc(sizeof(T) * (size_t)(width * LANES + LANES + width));                   \
        if (state == NULL)                                                                        \
            return -1;                                                                            \
        T *carry = state + width * LANES;                                                         \
        T *first = carry + LANES;                                                                 \
        for (Py_ssize_t start = 0; start < lanes; start += LANES) {                               \
            Py_ssize_t m = lanes - start < LANES ? lanes - start : LANES;                         \
            for (Py_ssize_t r = 0; r < m; r++) {                                                  \
                for (Py_ssize_t i = 0; i < width; i++)                                            \
                    first[i] = x[rows[i] * lanes + start + r];                                    \
                NAME##_sort(first, width);                                                        \
                for (Py_ssize_t i = 0; i < width; i++)                                            \
                    state[i * LANES + r] = first[i];                                              \
                out[start + r] = state[half * LANES + r];                                         \
            }                                                                                     \
            for (Py_ssize_t k = 1; k < n_out; k++) {                                              \
                const T *old = x + rows[k - 1] * lanes + start;                                   \
                const T *new_ = x + rows[k + width - 1] * lanes + start;                          \
                NAME##_step(state, carry, old, new_, width, m);                                   \
                T *dst = out + k * lanes + start;                                                 \
                const T *mid = state + half * LANES;                                              \
                for (Py_ssize_t r = 0; r < m; r++)                                                \
                    dst[r] = mid[r];                                                              \
            }                                                                                     \
        }                                                                                         \
        free(state);                                                                              \
        return 0;                                                                                 \
    }

DEFINE_KERNEL(median_f32, float)
DEFINE_KERNEL(median_f64, double)

static int
is_format(const Py_buffer *view, char code)
{
    const char *f = view->format ? view->format : "B";
    if (*f == '@' || *f == '=' || *f == '<')
        f++;
    return f[0] == code && f[1] == '\0';
}

static PyObject *
running_median(PyObject *self, PyObject *args)
{
    PyObject *x_obj, *rows_obj, *out_obj;
    Py_ssize_t width;
    Py_buffer x = {0}, rows = {0}, out = {0};
    PyObject *result = NULL;
    (void)self;

    if (!PyArg_ParseTuple(args, "OOnO:running_median", &x_obj, &rows_obj, &width, &out_obj))
        return NULL;
    if (PyObject_GetBuffer(x_obj, &x, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    if (PyObject_GetBuffer(rows_obj, &rows, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0)
        goto done;
    if (x.ndim != 2 || out.ndim != 2 || rows.ndim != 1) {
        PyErr_SetString(PyExc_ValueError, "running_median: x and out must be 2-D, rows 1-D");
        goto done;
    }
    if (width < 1 || width % 2 == 0) {
        PyErr_SetString(PyExc_ValueError, "running_median: width must be odd and positive");
        goto done;
    }
    Py_ssize_t n_in = x.shape[0], lanes = x.shape[1], n_out = out.shape[0];
    if (out.shape[1] != lanes || rows.shape[0] != n_out + width - 1 || rows.itemsize != 8
        || !(is_format(&rows, 'q') || is_format(&rows, 'l'))) {
        PyErr_SetString(PyExc_ValueError, "running_median: shapes or index type do not match");
        goto done;
    }
    const int64_t *index = rows.buf;
    for (Py_ssize_t i = 0; i < rows.shape[0]; i++) {
        if (index[i] < 0 || index[i] >= n_in) {
            PyErr_SetString(PyExc_IndexError, "running_median: a row index is out of range");
            goto done;
        }
    }
    int status = 0;
    if (is_format(&x, 'f') && is_format(&out, 'f')) {
        Py_BEGIN_ALLOW_THREADS
        if (n_out > 0 && lanes > 0)
            status = median_f32(x.buf, lanes, index, width, out.buf, n_out);
        Py_END_ALLOW_THREADS
    } else if (is_format(&x, 'd') && is_format(&out, 'd')) {
        Py_BEGIN_ALLOW_THREADS
        if (n_out > 0 && lanes > 0)
            status = median_f64(x.buf, lanes, index, width, out.buf, n_out);
        Py_END_ALLOW_THREADS
    } else {
        PyErr_SetString(PyExc_TypeError, "running_median: x and out must both be float32 or float64");
        goto done;
    }
    if (status != 0) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    if (x.obj)
        PyBuffer_Release(&x);
    if (rows.obj)
        PyBuffer_Release(&rows);
    if (out.obj)
        PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"running_median", running_median, METH_VARARGS,
     "running_median(x, rows, width, out): out[k, r] = median of x[rows[k:k + width], r]."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_median",
    "The exact running median kernel of genre_desktop.features.median (C, vectorised).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__median(void)
{
    return PyModule_Create(&module);
}
