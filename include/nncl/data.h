/* nncl/data.h: datasets in host memory, and where they come from.
 *
 *   IDX files (MNIST, Fashion-MNIST), raw or gzipped  -> nncl_idx_load_pair
 *   CSV tables and Kaggle "Digit Recognizer" files     -> nncl_csv_read
 *   a name ("mnist") or a path (directory, .csv)       -> nncl_data_resolve
 *   splits, subsets, feature statistics, PRNG          -> nncl_dataset_*, nncl_rng_*
 *   prediction files (Kaggle submission, plain)        -> nncl_csv_write_predictions
 *
 * Every function that can fail returns an nncl_status and leaves a message
 * (nncl_last_error()) that names the file, the line and column where one
 * applies, and what was expected. Nothing here prints or exits.
 *
 * Ownership: an nncl_dataset owns all of its arrays and strings; free it with
 * nncl_dataset_free(). Output datasets are overwritten (not freed) on entry and
 * are left zeroed when a function fails. */
#ifndef NNCL_DATA_H
#define NNCL_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "nncl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- dataset */

typedef enum nncl_task {
    NNCL_TASK_CLASSIFY = 0,
    NNCL_TASK_REGRESS = 1,
} nncl_task;

typedef struct nncl_dataset {
    size_t rows, cols;      /* samples, features per sample */
    uint8_t *x_u8;          /* features as bytes (images, 0..255), or NULL */
    float *x_f32;           /* features as floats (tables), or NULL. Exactly one
                               of x_u8 / x_f32 is set; row-major rows x cols */
    int32_t *labels;        /* classification: class per row in [0, num_classes), else NULL */
    float *targets;         /* regression: target per row, else NULL */
    nncl_task task;
    int num_classes;        /* classification: number of classes (0 for regression) */
    char **class_names;     /* num_classes strings, or NULL */
    int image_h, image_w;   /* 28, 28 for image data; 0 otherwise */
    char **feature_names;   /* cols header names (CSV), or NULL (IDX) */
    char *label_name;       /* the CSV label column's name, or NULL */
    char *source;           /* the path it came from, or NULL */
} nncl_dataset;

/* Frees every array and string and zeroes *ds. NULL and zeroed sets are fine. */
void nncl_dataset_free(nncl_dataset *ds);

/* True when the set carries labels (classification) or targets (regression). */
bool nncl_dataset_has_labels(const nncl_dataset *ds);

/* out = the rows idx[0..n) of src, in that order (repeats allowed), with all
 * names copied. Indices must be < src->rows. */
nncl_status nncl_dataset_subset(const nncl_dataset *src, const size_t *idx, size_t n,
                                nncl_dataset *out);

/* out = the first min(n, rows) rows of src. */
nncl_status nncl_dataset_head(const nncl_dataset *src, size_t n, nncl_dataset *out);

/* A deep copy. */
nncl_status nncl_dataset_copy(const nncl_dataset *src, nncl_dataset *out);

/* Moves src's contents to out (overwritten, not freed) and leaves src empty:
 * no copy of the data. */
void nncl_dataset_move(nncl_dataset *src, nncl_dataset *out);

/* ------------------------------------------------------------------ PRNG */

/* splitmix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro):
 * state += 0x9e3779b97f4a7c15, then a 64-bit finaliser. Pure integer
 * arithmetic, so the same seed gives the same stream on every platform. */
typedef struct nncl_rng { uint64_t state; } nncl_rng;

void nncl_rng_seed(nncl_rng *r, uint64_t seed);
uint64_t nncl_rng_next(nncl_rng *r);
/* Uniform in [0, n) without modulo bias (rejection); n > 0. */
uint64_t nncl_rng_below(nncl_rng *r, uint64_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float nncl_rng_float(nncl_rng *r);
/* Fisher-Yates: for i = n-1 .. 1, swap idx[i] with idx[below(i+1)]. */
void nncl_rng_shuffle(nncl_rng *r, size_t *idx, size_t n);

/* ---------------------------------------------------------------- splits */

/* Deterministic split of src into held_out (round(fraction * rows) rows) and
 * rest (the others). fraction in [0, 1]. Seeded with splitmix64 and
 * Fisher-Yates; both parts keep the rows' original relative order.
 * stratified (classification only; ignored for regression): each class gives
 * floor(fraction * its count) rows, and the rows left to reach the total go to
 * the classes with the largest remainders (ties: lower class index), so the
 * class proportions match as closely as integers allow. Either output may be
 * NULL if not wanted. */
nncl_status nncl_dataset_split(const nncl_dataset *src, double fraction, uint64_t seed,
                               bool stratified, nncl_dataset *held_out, nncl_dataset *rest);

/* ------------------------------------------------------- feature statistics */

/* Per-feature mean and population standard deviation over all rows
 * (two passes, accumulated in double). mean and std hold cols values. */
nncl_status nncl_dataset_feature_stats(const nncl_dataset *ds, double *mean, double *std);

/* The per-feature affine input transform x' = (x - shift) * scale:
 *   images (x_u8): shift 0, scale 1/255 (MNIST style);
 *   tables (x_f32): shift = mean, scale = 1/std, and scale 1 where the column
 *   is constant (std == 0, or std < 1e-6 * |mean|, or std < 1e-30), so nothing
 *   is ever divided by zero. shift and scale hold cols values. */
nncl_status nncl_dataset_feature_transform(const nncl_dataset *ds, float *shift, float *scale);

/* Regression targets: mean and population std (std reported as 1 when the
 * targets are constant, as above). NNCL_E_INVALID without targets. */
nncl_status nncl_dataset_target_stats(const nncl_dataset *ds, double *mean, double *std);

/* -------------------------------------------------------------------- IDX */

/* One IDX file, raw or gzip-compressed (detected by the magic bytes 1f 8b,
 * not by the name). Images: magic 0x00000803, dims count x h x w; labels:
 * magic 0x00000801, dim count. The header's sizes are checked against the
 * file's length (truncation, trailing bytes) before any data is trusted.
 * *data is malloc'd (count*h*w or count bytes); the caller frees it. */
nncl_status nncl_idx_load_images(const char *path, uint8_t **data, size_t *count,
                                 int *h, int *w);
nncl_status nncl_idx_load_labels(const char *path, uint8_t **data, size_t *count);

/* Images + labels as a classification dataset with x_u8, image_h/w set.
 * Counts must agree; every label must be < num_classes. num_classes == 0:
 * max label + 1. class_names NULL: "0", "1", ... */
nncl_status nncl_idx_load_pair(const char *images_path, const char *labels_path,
                               int num_classes, const char *const *class_names,
                               nncl_dataset *out);

/* The same checks on bytes already in memory (uncompressed); name is used in
 * messages. want_dims: 3 for images, 1 for labels. Exposed for the fuzzers. */
nncl_status nncl_idx_parse_mem(const char *name, const uint8_t *buf, size_t len,
                               int want_dims, uint8_t **data, size_t *count,
                               int *h, int *w);

/* -------------------------------------------------------------------- CSV */

typedef enum nncl_csv_task {
    NNCL_CSV_TASK_AUTO = 0,     /* regression if any label is a non-integer number
                                   (or integer labels take more than
                                   NNCL_CSV_AUTO_MAX_CLASSES values), else classification */
    NNCL_CSV_TASK_CLASSIFY,
    NNCL_CSV_TASK_REGRESS,
} nncl_csv_task;

typedef enum nncl_csv_label_mode {
    NNCL_CSV_LABEL_REQUIRED = 0, /* the label column must be there (train, eval) */
    NNCL_CSV_LABEL_NONE,         /* no label column: every column is a feature */
    NNCL_CSV_LABEL_OPTIONAL,     /* use the label column if the header has it by name
                                    (Kaggle: "label"); with label NULL, the last column
                                    when there is one more column than expect_cols;
                                    else every column is a feature */
} nncl_csv_label_mode;

#define NNCL_CSV_AUTO_MAX_CLASSES 1024
#define NNCL_CSV_MAX_CLASSES 65536

/* Input limits, so that no file can make a reader run without bound:
 *  - the header line may be at most NNCL_CSV_MAX_LINE bytes; a data row
 *    (line breaks inside quotes included) at most the larger of
 *    NNCL_CSV_MAX_LINE and NNCL_CSV_LINE_BYTES_PER_COLUMN bytes per column;
 *  - a column name or a class label at most NNCL_CSV_MAX_NAME bytes;
 *  - a control byte other than tab, LF, VT, FF and CR (0x00-0x08,
 *    0x0e-0x1f, 0x7f) means the file is not text: it is refused, naming the
 *    byte and its offset;
 *  - the rows may take at most the memory budget (nncl_data_memory_budget).
 * A line past its limit is refused after reading at most the limit, so a
 * file without line breaks (/dev/zero) fails at once with bounded memory. */
#define NNCL_CSV_MAX_LINE ((size_t)1 << 20)
#define NNCL_CSV_LINE_BYTES_PER_COLUMN 64
#define NNCL_CSV_MAX_NAME 4096

/* All-zero options are the defaults. */
typedef struct nncl_csv_options {
    /* The label column: a header name, or else (if no column has that name) a
     * 0-based column index in decimal. NULL: the last column; for Kaggle files,
     * "label". */
    const char *label;
    nncl_csv_label_mode label_mode;
    nncl_csv_task task;
    bool no_images;             /* don't detect Kaggle digit files; read them as tables */

    /* Checks against an existing model (predict / eval). */
    const char *const *expect_features; /* feature names in order, or NULL */
    size_t expect_cols;                 /* feature count, 0 = don't check */
    const char *const *expect_classes;  /* class names (index = class), or NULL; */
    int expect_num_classes;             /* a label not among them is an error */
} nncl_csv_options;

/* Reads a CSV file (or a gzip-compressed one) into out. The file is read
 * in a window of a few MiB, so the peak memory is about the size of the
 * result; pipes (FIFOs, /dev/stdin) and device files are read the same way,
 * within the limits above.
 *
 * Format: the first row is the header; the delimiter is the most frequent of
 * ',' ';' and tab in the header line (ties: that order). RFC 4180 quoting
 * ("a ""b""", fields with delimiters or line breaks inside quotes), CRLF or
 * LF line ends, a UTF-8 BOM, and blank lines at the end are accepted; a blank
 * line elsewhere is an error. Spaces around numbers are ignored.
 *
 * Kaggle Digit Recognizer: a header exactly label,pixel0..pixel783 or
 * pixel0..pixel783 gives 28x28 images in x_u8 (cells must be integers
 * 0..255), classes "0".."9".
 *
 * Any other table: features in x_f32 (cells must be finite decimal numbers,
 * scientific notation allowed, converted with correct rounding to float).
 * Classification labels may be integers or strings; classes are sorted:
 * numerically when every label is an integer, else by bytes (strcmp).
 * Regression targets are numbers.
 *
 * Errors are NNCL_E_IO (missing file, directory, read error) or
 * NNCL_E_FORMAT, with "file: line L, column C ('name'): what, expected what";
 * line numbers are 1-based and count the header as line 1. */
nncl_status nncl_csv_read(const char *path, const nncl_csv_options *opt, nncl_dataset *out);

/* The same from bytes in memory (not NUL-terminated; not gzip). name is used
 * in messages and as out->source. */
nncl_status nncl_csv_read_mem(const char *name, const char *buf, size_t len,
                              const nncl_csv_options *opt, nncl_dataset *out);

/* --------------------------------------------------------- prediction files */

typedef enum nncl_pred_format {
    NNCL_PRED_PLAIN = 0,    /* header "prediction", one value per line */
    NNCL_PRED_KAGGLE,       /* header "ImageId,Label", ImageId from 1 */
} nncl_pred_format;

/* Prints n predictions to fp: classes[i] (an index into class_names, printed
 * by name, quoted when needed, or as the index without names) when classes
 * != NULL, else values[i] (regression, printed with %.9g). `what` names the
 * destination in messages. */
nncl_status nncl_csv_print_predictions(FILE *fp, const char *what, nncl_pred_format format, size_t n,
                                       const int32_t *classes, int num_classes,
                                       const char *const *class_names, const float *values);

/* The same, into the file at path, atomically: a temporary file in the same
 * directory, fsync, rename. */
nncl_status nncl_csv_write_predictions(const char *path, nncl_pred_format format, size_t n,
                                       const int32_t *classes, int num_classes,
                                       const char *const *class_names, const float *values);

/* ------------------------------------------------------- finding datasets */

typedef struct nncl_resolve_options {
    const nncl_csv_options *csv;  /* for a CSV path; NULL = defaults */
    bool no_test;                 /* don't load the test set of an IDX directory */
    bool no_hash;                 /* leave sha256 empty */
} nncl_resolve_options;

typedef struct nncl_data_source {
    nncl_dataset train;
    nncl_dataset test;          /* zeroed when there is none */
    bool has_test;
    char *name;                 /* "mnist", "fashion-mnist", or the path given */
    char *dir;                  /* the directory the IDX files came from, or NULL */
    char *files[4];             /* the files read, in hashing order */
    int num_files;
    char sha256[65];            /* hex SHA-256 of the files' bytes (as stored,
                                   concatenated in files[] order), or "" */
    char file_sha256[4][65];    /* each file's own, or "" (with sha256) */
} nncl_data_source;

/* Finds and loads a dataset.
 *  - An existing directory: the IDX files train-images-idx3-ubyte,
 *    train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
 *    each raw or with .gz (raw preferred when both exist); the test pair is
 *    optional (both or neither).
 *  - An existing file: a CSV (nncl_csv_read), no test set. A pipe or a
 *    device file is read as a stream, once: its sha256 is left "".
 *  - A name (no '/'): the directory <name> under, in order, $NNCL_DATA, the
 *    installed data directory (NNCL_DATADIR), the source tree's datasets/, and
 *    for fashion-mnist /usr/share/datasets/fashion-mnist (Debian's
 *    dataset-fashion-mnist). NNCL_E_NOT_FOUND lists the places tried.
 * Class names: "0".."9" for mnist; the Fashion-MNIST names when the name or
 * the directory's base name is fashion-mnist / fashion_mnist. */
nncl_status nncl_data_resolve(const char *name_or_path, const nncl_resolve_options *opt,
                              nncl_data_source *out);
void nncl_data_source_free(nncl_data_source *src);

/* The class names of the built-in datasets (10 entries each). */
extern const char *const nncl_mnist_class_names[10];
extern const char *const nncl_fashion_mnist_class_names[10];

/* ------------------------------------------------------- memory budget */

/* The most bytes one file's rows may take in memory: every reader checks
 * what a file would need against it before allocating, and refuses the file
 * (NNCL_E_FORMAT, naming the file and the budget) when it would not fit.
 * NNCL_MEMORY_LIMIT sets it (bytes, or with K, M, G or T: powers of 1024);
 * by default it is half the memory the process may use (the physical RAM,
 * or the cgroup's memory.max when that is lower). why, if not NULL, gets a
 * short account of where the figure came from. NNCL_E_INVALID for a
 * malformed NNCL_MEMORY_LIMIT. */
nncl_status nncl_data_memory_budget(size_t *bytes, char *why, size_t why_len);

/* ------------------------------------------------------- label advice */

typedef enum nncl_label_advice_kind {
    NNCL_LABEL_ADVICE_NONE = 0,
    NNCL_LABEL_ADVICE_REGRESSION,   /* numeric labels that look like a regression target */
    NNCL_LABEL_ADVICE_FEW_ROWS,     /* too few rows per class to learn the classes */
    NNCL_LABEL_ADVICE_STRAY,        /* a few rows' labels are not numbers where the rest are */
} nncl_label_advice_kind;

/* Looks at a classification dataset's labels for signs that classifying
 * them is a mistake: more than 10 classes and either numeric class names
 * with more distinct values than half the rows, or fewer than 5 rows per
 * class on average. Writes one sentence to text (when not NULL) naming the
 * label column and the counts, e.g. "column 'price' has 200 distinct values
 * for 200 rows; is it a regression target?", and says which case it is;
 * NNCL_LABEL_ADVICE_NONE (and "") when nothing looks wrong, or for a
 * regression dataset. At any number of classes: numeric classes but for one
 * to three that are not numbers and hold a few rows together, at most 3 or
 * 1% of the rows (NNCL_LABEL_ADVICE_STRAY: "column 'label': 'cat' (1 row:
 * data row 50) is not a number like the other 2 classes: ..."). */
nncl_label_advice_kind nncl_label_advice(const nncl_dataset *ds, char *text, size_t cap);

/* Hex SHA-256 (OpenSSL EVP) of the concatenated bytes of n files. */
nncl_status nncl_sha256_files(const char *const *paths, int n, char hex[65]);
/* The same, and each file's own in each[i], from one read of each file. */
nncl_status nncl_sha256_files_each(const char *const *paths, int n, char hex[65], char (*each)[65]);

#ifdef __cplusplus
}
#endif
#endif
