/* Models in the safetensors format: writing and strictly checked reading.
 * https://github.com/huggingface/safetensors: u64 header length (little
 * endian), a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
 * padded with spaces to a multiple of 8, then the data. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/model.h"
#include "nncl_config.h"
#include "util/atomic_file.h"

#define MAX_HEADER (64u << 20)
#define MAX_MODEL_FILE ((size_t)8 << 30)

static const char *act_names[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh"};

const char *nncl_act_name(nncl_act act)
{
    return (unsigned)act < sizeof act_names / sizeof act_names[0] ? act_names[act] : "?";
}

nncl_status nncl_act_parse(const char *name, nncl_act *out)
{
    for (size_t i = 0; i < sizeof act_names / sizeof act_names[0]; i++)
        if (strcmp(name, act_names[i]) == 0) {
            *out = (nncl_act)i;
            return NNCL_OK;
        }
    return nncl_fail(NNCL_E_INVALID, "unknown activation '%s' (relu, leaky_relu, sigmoid, tanh, identity)",
                     name);
}

static void free_names(char **names, int n)
{
    if (!names)
        return;
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void nncl_model_free(nncl_model *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->shift);
    free(m->scale);
    free_names(m->class_names, m->num_classes);
    free_names(m->feature_names, (int)m->cfg.sizes[0]);
    free(m->dataset);
    memset(m, 0, sizeof *m);
}

nncl_status nncl_model_from_net(const nncl_net *net, nncl_model *m)
{
    m->cfg = *nncl_net_get_config(net);
    m->n_params = nncl_net_param_count(net);
    size_t in = m->cfg.sizes[0];
    free(m->params);
    free(m->shift);
    free(m->scale);
    m->params = malloc(m->n_params * sizeof(float));
    m->shift = malloc(in * sizeof(float));
    m->scale = malloc(in * sizeof(float));
    if (!m->params || !m->shift || !m->scale)
        return nncl_fail(NNCL_E_NOMEM, "out of memory copying the model");
    nncl_net_get_target_transform(net, &m->t_shift, &m->t_scale);
    nncl_status st = nncl_net_get_params(net, m->params);
    return st ? st : nncl_net_get_transform(net, m->shift, m->scale);
}

nncl_status nncl_model_to_net(const nncl_model *m, nncl_device *dev, size_t max_batch, nncl_net **out)
{
    nncl_status st = nncl_net_create(dev, &m->cfg, max_batch, out);
    if (st != NNCL_OK)
        return st;
    if ((st = nncl_net_set_params(*out, m->params)) == NNCL_OK &&
        (st = nncl_net_set_transform(*out, m->shift, m->scale)) == NNCL_OK) {
        nncl_net_set_target_transform(*out, m->t_shift, m->t_scale);
        return NNCL_OK;
    }
    nncl_net_free(*out);
    *out = NULL;
    return st;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct tensor {
    char name[64];
    const float *data;
    size_t shape[4];
    int dims;
} tensor;

static size_t tensor_count(const tensor *t)
{
    size_t n = 1;
    for (int d = 0; d < t->dims; d++)
        n *= t->shape[d];
    return n;
}

static json_t *names_json(char **names, int n)
{
    json_t *a = json_array();
    for (int i = 0; names && i < n; i++)
        json_array_append_new(a, json_string(names[i] ? names[i] : ""));
    return a;
}

/* A JSON value as a compact string (safetensors metadata holds strings only). */
static json_t *as_string(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(v);
    json_t *r = json_string(s ? s : "[]");
    free(s);
    return r;
}

nncl_status nncl_model_save(const char *path, const nncl_model *m)
{
    const int L = m->cfg.layers;
    nncl_tensor_info info[NNCL_MAX_TENSORS];
    int n_info = 0;
    nncl_status lst = nncl_net_config_tensors(&m->cfg, info, &n_info);
    if (lst != NNCL_OK)
        return lst;
    tensor t[NNCL_MAX_TENSORS + 4];
    int nt = 0;
    /* Every layer's tensors in PyTorch's names and layouts ([out, in] for a
     * dense layer, [k, c, kh, kw] for a convolution, batch normalisation's
     * weight, bias, running_mean and running_var). */
    for (int i = 0; i < n_info; i++) {
        t[nt] = (tensor){.data = m->params + info[i].offset, .dims = info[i].ndim};
        memcpy(t[nt].shape, info[i].dims, sizeof t[nt].shape);
        snprintf(t[nt++].name, 64, "%.47s", info[i].name);
    }
    t[nt] = (tensor){"input.shift", m->shift, {m->cfg.sizes[0]}, 1};
    nt++;
    t[nt] = (tensor){"input.scale", m->scale, {m->cfg.sizes[0]}, 1};
    nt++;
    if (m->cfg.task == NNCL_TASK_REGRESS) {
        t[nt] = (tensor){"target.shift", &m->t_shift, {1}, 1};
        nt++;
        t[nt] = (tensor){"target.scale", &m->t_scale, {1}, 1};
        nt++;
    }

    json_t *head = json_object();
    size_t data_off = 0;
    for (int i = 0; i < nt; i++) {
        size_t count = tensor_count(&t[i]);
        json_t *shape = json_array();
        for (int d = 0; d < t[i].dims; d++)
            json_array_append_new(shape, json_integer((json_int_t)t[i].shape[d]));
        json_object_set_new(head, t[i].name,
                            json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", shape, "data_offsets",
                                      (json_int_t)data_off, (json_int_t)(data_off + count * 4)));
        data_off += count * 4;
    }
    /* The dense form: its sizes ("784,128,10"); a layer list: its specs
     * ("conv:16:5,maxpool:2,128,10") and the input's shape. */
    char layers[1024] = "", buf[64], input_shape[64] = "";
    if (nncl_net_config_is_dense(&m->cfg)) {
        for (int l = 0; l <= L; l++) {
            snprintf(buf, sizeof buf, "%s%zu", l ? "," : "", m->cfg.sizes[l]);
            strncat(layers, buf, sizeof layers - strlen(layers) - 1);
        }
    } else {
        if ((lst = nncl_layers_format(m->cfg.specs, m->cfg.n_specs, layers, sizeof layers)) != NNCL_OK)
            return lst;
        snprintf(input_shape, sizeof input_shape, "%zu,%zu,%zu", m->cfg.in_c, m->cfg.in_h, m->cfg.in_w);
    }
    char act_param[32], image[32] = "";
    snprintf(act_param, sizeof act_param, "%.9g", m->cfg.act_param);
    if (m->image_h > 0)
        snprintf(image, sizeof image, "%d,%d", m->image_h, m->image_w);
    json_t *meta = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "format", "nncl", "nncl_version",
                             NNCL_VERSION, "layers", layers, "activation", nncl_act_name(m->cfg.act),
                             "activation_param", act_param, "task",
                             m->cfg.task == NNCL_TASK_REGRESS ? "regress" : "classify", "image_shape", image,
                             "dataset", m->dataset ? m->dataset : "");
    if (*input_shape)
        json_object_set_new(meta, "input_shape", json_string(input_shape));
    json_object_set_new(meta, "class_names", as_string(names_json(m->class_names, m->num_classes)));
    json_object_set_new(meta, "feature_names",
                        as_string(names_json(m->feature_names, m->feature_names ? (int)m->cfg.sizes[0] : 0)));
    json_object_set_new(head, "__metadata__", meta);
    char *header = json_dumps(head, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(head);
    if (!header)
        return nncl_fail(NNCL_E_NOMEM, "out of memory writing %s", path);

    size_t hlen = strlen(header), padded = (hlen + 7) / 8 * 8;
    size_t total = 8 + padded + data_off;
    unsigned char *file = malloc(total);
    if (!file) {
        free(header);
        return nncl_fail(NNCL_E_NOMEM, "out of memory writing %s", path);
    }
    for (int i = 0; i < 8; i++)
        file[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(file + 8, header, hlen);
    memset(file + 8 + hlen, ' ', padded - hlen);
    free(header);
    unsigned char *p = file + 8 + padded;
    for (int i = 0; i < nt; i++) {
        size_t count = tensor_count(&t[i]);
        /* Little endian on disk; every platform nncl targets is little endian. */
        memcpy(p, t[i].data, count * 4);
        p += count * 4;
    }
    nncl_status st = nncl_write_file_atomic(path, file, total);
    free(file);
    return st;
}

/* ---- reading --------------------------------------------------------------- */

static nncl_status bad(const char *path, const char *what)
{
    return nncl_fail(NNCL_E_FORMAT, "%s: not a valid nncl safetensors model: %s", path, what);
}

static const char *meta_string(json_t *meta, const char *key)
{
    json_t *v = json_object_get(meta, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Parse a metadata string holding a JSON array of strings. */
static nncl_status parse_names(const char *path, const char *text, const char *key, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!text || !*text)
        return NNCL_OK;
    json_t *arr = json_loads(text, 0, NULL);
    if (!json_is_array(arr)) {
        json_decref(arr);
        char msg[128];
        snprintf(msg, sizeof msg, "metadata '%s' is not a JSON array", key);
        return bad(path, msg);
    }
    size_t count = json_array_size(arr);
    if (count == 0) {
        json_decref(arr);
        return NNCL_OK;
    }
    char **names = calloc(count, sizeof *names);
    if (!names) {
        json_decref(arr);
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        json_t *s = json_array_get(arr, i);
        names[i] = strdup(json_is_string(s) ? json_string_value(s) : "");
    }
    json_decref(arr);
    *out = names;
    *n = (int)count;
    return NNCL_OK;
}

/* Copy tensor `name` of the expected shape into dst. */
static nncl_status get_tensor_nd(const char *path, json_t *head, const unsigned char *data, size_t data_len,
                                 const char *name, const size_t *want, int dims, float *dst)
{
    char msg[256];
    json_t *t = json_object_get(head, name);
    if (!json_is_object(t)) {
        snprintf(msg, sizeof msg, "tensor '%s' is missing", name);
        return bad(path, msg);
    }
    const char *dtype = json_string_value(json_object_get(t, "dtype"));
    json_t *shape = json_object_get(t, "shape"), *offs = json_object_get(t, "data_offsets");
    if (!dtype || strcmp(dtype, "F32") != 0) {
        snprintf(msg, sizeof msg, "tensor '%s' has dtype %s, expected F32", name, dtype ? dtype : "(none)");
        return bad(path, msg);
    }
    bool shape_ok = json_is_array(shape) && json_array_size(shape) == (size_t)dims;
    for (int d = 0; shape_ok && d < dims; d++) {
        json_t *v = json_array_get(shape, (size_t)d);
        shape_ok = json_is_integer(v) && json_integer_value(v) == (json_int_t)want[d];
    }
    if (!shape_ok) {
        char expected[96] = "";
        size_t used = 0;
        for (int d = 0; d < dims && used < sizeof expected; d++)
            used += (size_t)snprintf(expected + used, sizeof expected - used, "%s%zu", d ? ", " : "", want[d]);
        snprintf(msg, sizeof msg, "tensor '%s' has the wrong shape, expected [%s]", name, expected);
        return bad(path, msg);
    }
    json_t *b = json_array_get(offs, 0), *e = json_array_get(offs, 1);
    size_t count = 1;
    for (int d = 0; d < dims; d++)
        count *= want[d];
    if (!json_is_array(offs) || json_array_size(offs) != 2 || !json_is_integer(b) || !json_is_integer(e) ||
        json_integer_value(b) < 0 || json_integer_value(e) < json_integer_value(b) ||
        (size_t)json_integer_value(e) > data_len ||
        (size_t)(json_integer_value(e) - json_integer_value(b)) != count * 4) {
        snprintf(msg, sizeof msg, "tensor '%s' has data_offsets outside the file or of the wrong size", name);
        return bad(path, msg);
    }
    memcpy(dst, data + json_integer_value(b), count * 4);
    /* A NaN or infinite weight makes every prediction meaningless (a NaN
     * row argmaxes to class 0): refuse the file instead. */
    for (size_t i = 0; i < count; i++)
        if (!isfinite(dst[i])) {
            snprintf(msg, sizeof msg, "tensor '%s' holds %s at element %zu: the weights are not numbers", name,
                     isnan(dst[i]) ? "NaN" : "an infinity", i);
            return bad(path, msg);
        }
    return NNCL_OK;
}

static nncl_status get_tensor(const char *path, json_t *head, const unsigned char *data, size_t data_len,
                              const char *name, size_t d0, size_t d1, int dims, float *dst)
{
    size_t want[2] = {d0, d1};
    return get_tensor_nd(path, head, data, data_len, name, want, dims, dst);
}

/* A layer list ("conv:16:5,maxpool:2,128,10") on an input of shape C,H,W. */
static nncl_status parse_specs(const char *path, const char *text, const char *shape, nncl_net_config *cfg)
{
    char msg[400];
    unsigned long long c, h, w;
    char tail;
    if (sscanf(shape, "%llu,%llu,%llu%c", &c, &h, &w, &tail) != 3 || c == 0 || h == 0 || w == 0 ||
        c > 65536 || h > 65536 || w > 65536)
        return bad(path, "metadata 'input_shape' is not C,H,W");
    cfg->in_c = (size_t)c;
    cfg->in_h = (size_t)h;
    cfg->in_w = (size_t)w;
    if (!text || nncl_layers_parse(text, cfg->specs, NNCL_MAX_LAYERS, &cfg->n_specs) != NNCL_OK) {
        snprintf(msg, sizeof msg, "metadata 'layers' is not a layer list: %s", text ? nncl_last_error() : "missing");
        return bad(path, msg);
    }
    if (nncl_net_config_resolve(cfg) != NNCL_OK) {
        snprintf(msg, sizeof msg, "the layer list does not fit its input: %s", nncl_last_error());
        return bad(path, msg);
    }
    return NNCL_OK;
}

static nncl_status parse_layers(const char *path, const char *text, nncl_net_config *cfg)
{
    if (!text)
        return bad(path, "metadata 'layers' is missing");
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || v == 0 || v > (1u << 24) || n > NNCL_MAX_LAYERS)
            return bad(path, "metadata 'layers' is not a list of sizes like 784,128,10");
        cfg->sizes[n++] = (size_t)v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return bad(path, "metadata 'layers' is not a list of sizes like 784,128,10");
    }
    if (n < 2)
        return bad(path, "metadata 'layers' needs at least an input and an output size");
    cfg->layers = n - 1;
    return NNCL_OK;
}

nncl_status nncl_model_load(const char *path, nncl_model *m)
{
    memset(m, 0, sizeof *m);
    char *file;
    size_t len;
    nncl_status st = nncl_read_file(path, MAX_MODEL_FILE, &file, &len);
    if (st != NNCL_OK)
        return st;
    json_t *head = NULL;
    const unsigned char *u = (const unsigned char *)file;
    uint64_t hlen = 0;
    for (int i = 0; i < 8 && len >= 8; i++)
        hlen |= (uint64_t)u[i] << (8 * i);
    if (len < 8 || hlen > MAX_HEADER || hlen > len - 8) {
        st = bad(path, "the header length is missing or larger than the file");
        goto done;
    }
    json_error_t jerr;
    head = json_loadb(file + 8, (size_t)hlen, 0, &jerr);
    if (!json_is_object(head)) {
        char msg[300];
        snprintf(msg, sizeof msg, "the JSON header does not parse (%s)", jerr.text);
        st = bad(path, msg);
        goto done;
    }
    json_t *meta = json_object_get(head, "__metadata__");
    const char *fmt = meta_string(meta, "format");
    if (!fmt || strcmp(fmt, "nncl") != 0) {
        st = bad(path, "__metadata__.format is not \"nncl\"");
        goto done;
    }
    const char *input_shape = meta_string(meta, "input_shape");
    st = input_shape ? parse_specs(path, meta_string(meta, "layers"), input_shape, &m->cfg)
                     : parse_layers(path, meta_string(meta, "layers"), &m->cfg);
    if (st != NNCL_OK)
        goto done;
    const char *act = meta_string(meta, "activation"), *task = meta_string(meta, "task");
    if (!act || nncl_act_parse(act, &m->cfg.act) != NNCL_OK) {
        st = bad(path, "metadata 'activation' is missing or unknown");
        goto done;
    }
    const char *ap = meta_string(meta, "activation_param");
    char *ap_end = NULL;
    m->cfg.act_param = ap ? strtof(ap, &ap_end) : 0.0f;
    /* leaky_relu's slope: "nan" was taken and failed later in a kernel's
     * check, without naming the file */
    if (ap && (ap_end == ap || *ap_end || !isfinite(m->cfg.act_param))) {
        st = bad(path, "metadata 'activation_param' is not a finite number");
        goto done;
    }
    m->cfg.task = task && strcmp(task, "regress") == 0 ? NNCL_TASK_REGRESS : NNCL_TASK_CLASSIFY;
    const char *img = meta_string(meta, "image_shape");
    if (img && *img && sscanf(img, "%d,%d", &m->image_h, &m->image_w) != 2) {
        st = bad(path, "metadata 'image_shape' is not H,W");
        goto done;
    }
    const char *ds = meta_string(meta, "dataset");
    m->dataset = ds && *ds ? strdup(ds) : NULL;
    int nf = 0;
    if ((st = parse_names(path, meta_string(meta, "class_names"), "class_names", &m->class_names,
                          &m->num_classes)) != NNCL_OK ||
        (st = parse_names(path, meta_string(meta, "feature_names"), "feature_names", &m->feature_names, &nf)) !=
            NNCL_OK)
        goto done;
    const int L = m->cfg.layers;
    if (nf != 0 && (size_t)nf != m->cfg.sizes[0]) {
        free_names(m->feature_names, nf);
        m->feature_names = NULL;
        st = bad(path, "metadata 'feature_names' does not match the input size");
        goto done;
    }
    if (m->cfg.task == NNCL_TASK_CLASSIFY && m->num_classes != 0 && (size_t)m->num_classes != m->cfg.sizes[L]) {
        st = bad(path, "metadata 'class_names' does not match the output size");
        goto done;
    }

    nncl_tensor_info info[NNCL_MAX_TENSORS];
    int n_info = 0;
    if ((st = nncl_net_config_tensors(&m->cfg, info, &n_info)) != NNCL_OK ||
        (st = nncl_net_config_param_count(&m->cfg, &m->n_params)) != NNCL_OK)
        goto done;
    /* Every parameter and the input transform are stored in the file: a
     * header claiming more is refused before anything that size is
     * allocated ("16777216,16777216" in a 1 KB file asked for 1 PB). */
    const unsigned char *data = u + 8 + hlen;
    size_t data_len = len - 8 - (size_t)hlen;
    if (m->n_params > data_len / 4 || m->cfg.sizes[0] > (data_len / 4 - m->n_params) / 2) {
        char msg[200];
        snprintf(msg, sizeof msg, "its %zu parameters and the shift and scale of its %zu inputs need %llu "
                 "bytes, the file holds %zu after the header", m->n_params, m->cfg.sizes[0],
                 4 * ((unsigned long long)m->n_params + 2 * (unsigned long long)m->cfg.sizes[0]), data_len);
        st = bad(path, msg);
        goto done;
    }
    m->params = malloc((m->n_params ? m->n_params : 1) * sizeof(float));
    m->shift = malloc(m->cfg.sizes[0] * sizeof(float));
    m->scale = malloc(m->cfg.sizes[0] * sizeof(float));
    if (!m->params || !m->shift || !m->scale) {
        st = nncl_fail(NNCL_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < n_info && st == NNCL_OK; i++)
        st = get_tensor_nd(path, head, data, data_len, info[i].name, info[i].dims, info[i].ndim,
                           m->params + info[i].offset);
    if (st == NNCL_OK)
        st = get_tensor(path, head, data, data_len, "input.shift", m->cfg.sizes[0], 0, 1, m->shift);
    if (st == NNCL_OK)
        st = get_tensor(path, head, data, data_len, "input.scale", m->cfg.sizes[0], 0, 1, m->scale);
    m->t_shift = 0.0f;
    m->t_scale = 1.0f;
    if (st == NNCL_OK && m->cfg.task == NNCL_TASK_REGRESS) {
        st = get_tensor(path, head, data, data_len, "target.shift", 1, 0, 1, &m->t_shift);
        if (st == NNCL_OK)
            st = get_tensor(path, head, data, data_len, "target.scale", 1, 0, 1, &m->t_scale);
    }
done:
    json_decref(head);
    free(file);
    if (st != NNCL_OK)
        nncl_model_free(m);
    return st;
}
