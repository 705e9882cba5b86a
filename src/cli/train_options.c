/* Parsing and validating `nncl train` options. Every default is here, and
 * every value is checked: a bad one exits 2 with a message naming the flag. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/train_options.h"
#include "nncl/model.h"

/* The defaults: the bare `nncl train` must reach 98% test accuracy on MNIST. */
#define DEFAULT_HIDDEN 256
#define DEFAULT_LR 2e-3f
#define DEFAULT_BATCH 128
#define DEFAULT_EPOCHS 8
#define DEFAULT_SEED 1
#define DEFAULT_SNAPSHOTS 60
#define DEFAULT_CHECKPOINT_EVERY 1

const char *optim_name(nncl_optim k)
{
    static const char *n[] = {"sgd", "momentum", "adam", "adamw"};
    return (unsigned)k < 4 ? n[k] : "?";
}

const char *init_name(nncl_init_kind k)
{
    static const char *n[] = {"he", "xavier", "uniform"};
    return (unsigned)k < 3 ? n[k] : "?";
}

const char *schedule_name(nncl_schedule_kind k)
{
    static const char *n[] = {"constant", "step", "cosine"};
    return (unsigned)k < 3 ? n[k] : "?";
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nncl train [options]\n"
            "\n"
            "Trains a network and saves the run in runs/<UTC time>-<name>/ (or --out).\n"
            "\n"
            "data:\n"
            "  --data NAME|DIR|FILE   mnist (default), fashion-mnist, a folder of IDX files,\n"
            "                         or a CSV file (Kaggle digits or any numeric table)\n"
            "  --label COLUMN         CSV label column, a name or 0-based index (default: last)\n"
            "  --task auto|classify|regress   CSV task (default auto)\n"
            "  --test FILE            a separate test file\n"
            "  --test-split FRACTION  held out for testing when the data has no test set (0.2)\n"
            "  --val FRACTION|COUNT   validation split of the training set (0.1)\n"
            "  --limit N              train on N rows of the training set only (seeded)\n"
            "\n"
            "model:\n"
            "  --layers 256           the layers before the output, comma separated (\"\" for\n"
            "                         none): a number is a dense layer; conv:32:5 (32 filters\n"
            "                         of 5x5, same padding; options valid, pN, sN), maxpool:2,\n"
            "                         avgpool:2, batchnorm, dropout:0.25, flatten\n"
            "  --act relu             relu, leaky_relu, sigmoid, tanh\n"
            "  --leaky-slope 0.01     the slope of leaky_relu below zero\n"
            "  --init he              he, xavier, uniform:A (weights and biases in [-A, A])\n"
            "  --dropout 0            dropout after hidden dense layers while training, [0, 1)\n"
            "\n"
            "optimisation:\n"
            "  --opt adam             sgd, momentum, adam, adamw\n"
            "  --lr 0.002             learning rate\n"
            "  --momentum 0.9         for momentum; --nesterov for Nesterov momentum\n"
            "  --beta1 0.9 --beta2 0.999 --eps 1e-8   for adam and adamw\n"
            "  --weight-decay 0       L2 (sgd, momentum, adam) or decoupled (adamw)\n"
            "  --schedule cosine      constant, step:EPOCHS:GAMMA, cosine\n"
            "  --warmup 0             epochs of linear learning-rate warm-up\n"
            "  --batch 128            rows per step; 0 = the whole training set\n"
            "  --epochs 8\n"
            "  --early-stop 0         stop after N epochs without a better validation loss\n"
            "  --seed 1\n"
            "  --preset NAME          tutorial: the numpy-from-scratch network (784-10-10,\n"
            "                         full-batch gradient descent, alpha 0.1, 500 iterations);\n"
            "                         tutorial-faithful: the same with the original's quirks;\n"
            "                         cnn: a small convolutional network for 28x28 pictures\n"
            "                         (conv:32:3,maxpool:2,conv:64:3,maxpool:2,128,\n"
            "                         dropout:0.3; Adam, 15 epochs)\n"
            "\n"
            "output:\n"
            "  --out DIR              the run directory (must not exist yet)\n"
            "  --log-every N          print every Nth epoch (default 1; tutorial 10)\n"
            "  --snapshots 60         record the weights and their statistics at N evenly\n"
            "                         spaced steps, the first and last included (0: none)\n"
            "  --no-report            do not write report.html at the end (nncl report can)\n"
            "  --checkpoint-every 1   write checkpoint.bin every N epochs (at most once a\n"
            "                         second; always after the last, and on Ctrl-C or SIGTERM);\n"
            "                         0: only on Ctrl-C or SIGTERM\n"
            "  --quiet                print only the final line\n"
            "  --profile              time every op (waits for each; slower) and print a\n"
            "                         table on stderr (also NNCL_PROFILE=1)\n"
            "  --device DEVICE        see nncl --device list\n"
            "\n"
            "distributed (a build with MPI):\n"
            "  mpirun -np R nncl train --distributed ...\n"
            "                         data-parallel: every rank holds the network and trains\n"
            "                         on 1/R of each batch; --batch stays the global batch (the\n"
            "                         learning rate is not scaled); rank 0 prints and writes\n"
            "\n"
            "continuing a run:\n"
            "  nncl train --resume RUN_DIR [--epochs N] [--device DEVICE] [--quiet] [--log-every N]\n"
            "                         [--distributed] (under mpirun)\n"
            "                         continue a stopped or crashed run from its checkpoint.bin,\n"
            "                         with every other option as the run had it (its config.json);\n"
            "                         a larger --epochs trains a finished run further\n");
}

/* ---- value parsers: each names its flag ---------------------------------- */

static bool parse_double(const char *flag, const char *s, double lo, double hi, bool lo_open, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi || (lo_open && v == lo)) {
        cli_error("%s: '%s' is not a number in %s%g, %g]", flag, s, lo_open ? "(" : "[", lo, hi);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_float(const char *flag, const char *s, double lo, double hi, bool lo_open, float *out)
{
    double v;
    if (!parse_double(flag, s, lo, hi, lo_open, &v))
        return false;
    *out = (float)v;
    return true;
}

static bool parse_size(const char *flag, const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || s[0] == '-' || v < lo || v > hi) {
        cli_error("%s: '%s' is not a whole number in [%zu, %zu]", flag, s, lo, hi);
        return false;
    }
    *out = (size_t)v;
    return true;
}

static bool parse_int(const char *flag, const char *s, int lo, int hi, int *out)
{
    size_t v;
    if (!parse_size(flag, s, (size_t)lo, (size_t)hi, &v))
        return false;
    *out = (int)v;
    return true;
}

/* "conv:32:3,maxpool:2,128" -> the layer list (nncl/layers.h); "" -> none. */
static bool parse_layers(const char *s, train_options *o)
{
    if (nncl_layers_parse(s, o->hidden, NNCL_MAX_LAYERS - 1, &o->hidden_count) != NNCL_OK) {
        cli_error("--layers: %s", nncl_last_error());
        return false;
    }
    return true;
}

static nncl_layer_spec dense(size_t units) { return (nncl_layer_spec){.kind = NNCL_LAYER_DENSE, .units = units}; }

static bool parse_init(const char *s, train_options *o)
{
    if (strcmp(s, "he") == 0) {
        o->init = NNCL_INIT_HE;
    } else if (strcmp(s, "xavier") == 0) {
        o->init = NNCL_INIT_XAVIER;
    } else if (strncmp(s, "uniform:", 8) == 0) {
        o->init = NNCL_INIT_UNIFORM;
        return parse_float("--init uniform:A", s + 8, 0, 1e6, true, &o->init_param);
    } else {
        cli_error("--init: '%s' is not he, xavier or uniform:A", s);
        return false;
    }
    return true;
}

static bool parse_opt(const char *s, train_options *o)
{
    static const char *names[] = {"sgd", "momentum", "adam", "adamw"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            o->optim.kind = (nncl_optim)i;
            return true;
        }
    cli_error("--opt: '%s' is not sgd, momentum, adam or adamw", s);
    return false;
}

static bool parse_schedule(const char *s, train_options *o)
{
    if (strcmp(s, "constant") == 0) {
        o->schedule.kind = NNCL_SCHEDULE_CONSTANT;
    } else if (strcmp(s, "cosine") == 0) {
        o->schedule.kind = NNCL_SCHEDULE_COSINE;
    } else if (strncmp(s, "step:", 5) == 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", s + 5);
        char *colon = strchr(buf, ':');
        if (!colon) {
            cli_error("--schedule: '%s' is not step:EPOCHS:GAMMA (e.g. step:5:0.5)", s);
            return false;
        }
        *colon = '\0';
        o->schedule.kind = NNCL_SCHEDULE_STEP;
        return parse_int("--schedule step:EPOCHS", buf, 1, 1000000, &o->schedule.step_epochs) &&
               parse_float("--schedule step:EPOCHS:GAMMA", colon + 1, 0, 1e3, true, &o->schedule.gamma);
    } else {
        cli_error("--schedule: '%s' is not constant, step:EPOCHS:GAMMA or cosine", s);
        return false;
    }
    return true;
}

static bool parse_task(const char *s, train_options *o)
{
    if (strcmp(s, "auto") == 0)
        o->task = NNCL_CSV_TASK_AUTO;
    else if (strcmp(s, "classify") == 0 || strcmp(s, "classification") == 0)
        o->task = NNCL_CSV_TASK_CLASSIFY;
    else if (strcmp(s, "regress") == 0 || strcmp(s, "regression") == 0)
        o->task = NNCL_CSV_TASK_REGRESS;
    else {
        cli_error("--task: '%s' is not auto, classify or regress", s);
        return false;
    }
    return true;
}

static void set_defaults(train_options *o, const cli_globals *g)
{
    memset(o, 0, sizeof *o);
    o->device = g->device;
    o->data = "mnist";
    o->task = NNCL_CSV_TASK_AUTO;
    o->test_split = 0.2;
    o->val = 0.1;
    o->hidden_count = 1;
    o->hidden[0] = dense(DEFAULT_HIDDEN);
    o->act = NNCL_ACT_RELU;
    o->act_param = 0.01f;
    o->init = NNCL_INIT_HE;
    o->optim = (nncl_optim_config){.kind = NNCL_OPTIM_ADAM, .momentum = 0.9f, .beta1 = 0.9f,
                                   .beta2 = 0.999f, .eps = 1e-8f};
    o->schedule = (nncl_schedule){.kind = NNCL_SCHEDULE_COSINE, .lr = DEFAULT_LR, .gamma = 0.5f,
                                  .step_epochs = 5};
    o->batch = DEFAULT_BATCH;
    o->epochs = DEFAULT_EPOCHS;
    o->seed = DEFAULT_SEED;
    o->log_every = 1;
    o->snapshots = DEFAULT_SNAPSHOTS;
    o->checkpoint_every = DEFAULT_CHECKPOINT_EVERY;
}

/* The numpy-from-scratch tutorial: 784-10-10, ReLU, softmax; weights and
 * biases from U(-0.5, 0.5); full-batch gradient descent with alpha 0.1 for
 * 500 iterations on 41,000 shuffled images, the 1,000 before them as dev set. */
static void apply_preset(train_options *o, bool faithful)
{
    o->hidden_count = 1;
    o->hidden[0] = dense(10);
    o->act = NNCL_ACT_RELU;
    o->init = NNCL_INIT_UNIFORM;
    o->init_param = 0.5f;
    o->optim.kind = NNCL_OPTIM_SGD;
    o->schedule.kind = NNCL_SCHEDULE_CONSTANT;
    o->schedule.lr = 0.1f;
    o->batch = 0;
    o->epochs = 500;
    o->limit = 42000;
    o->val = 1000;
    o->log_every = 10;
    o->faithful = faithful;
    /* The original divides by m = 42,000, set before it split off the dev set. */
    o->faithful_rows = faithful ? 42000 : 0;
}

/* A small convolutional network for 28x28 pictures (MNIST, Fashion-MNIST):
 * two 3x3 convolutions with 2x2 max pooling, a dense layer of 128 with
 * dropout, trained with Adam for 15 epochs: the classic Keras MNIST example's
 * shape, which reaches about 99.2% on MNIST. */
#define CNN_PRESET_LAYERS "conv:32:3,maxpool:2,conv:64:3,maxpool:2,128,dropout:0.3"

static void apply_cnn_preset(train_options *o)
{
    if (nncl_layers_parse(CNN_PRESET_LAYERS, o->hidden, NNCL_MAX_LAYERS - 1, &o->hidden_count) != NNCL_OK)
        o->hidden_count = 0;    /* cannot happen: the text is fixed, and tested */
    o->act = NNCL_ACT_RELU;
    o->init = NNCL_INIT_HE;
    o->optim.kind = NNCL_OPTIM_ADAM;
    o->schedule.kind = NNCL_SCHEDULE_COSINE;
    o->schedule.lr = 1e-3f;
    o->batch = 128;
    o->epochs = 15;
}

/* Every flag of `nncl train`. */
enum {
    O_DATA = 256, O_LABEL, O_TASK, O_TEST, O_TEST_SPLIT, O_VAL, O_LIMIT, O_LAYERS, O_ACT, O_SLOPE,
    O_INIT, O_DROPOUT, O_OPT, O_LR, O_MOMENTUM, O_NESTEROV, O_BETA1, O_BETA2, O_EPS, O_WD,
    O_SCHEDULE, O_WARMUP, O_BATCH, O_EPOCHS, O_EARLY, O_SEED, O_PRESET, O_OUT, O_LOG_EVERY,
    O_QUIET, O_DEVICE, O_HELP, O_PROFILE, O_SNAPSHOTS, O_NO_REPORT, O_CHECKPOINT_EVERY,
    O_DISTRIBUTED,
};
static const struct option opts[] = {
    {"data", required_argument, NULL, O_DATA}, {"label", required_argument, NULL, O_LABEL},
    {"task", required_argument, NULL, O_TASK}, {"test", required_argument, NULL, O_TEST},
    {"test-split", required_argument, NULL, O_TEST_SPLIT}, {"val", required_argument, NULL, O_VAL},
    {"limit", required_argument, NULL, O_LIMIT}, {"layers", required_argument, NULL, O_LAYERS},
    {"act", required_argument, NULL, O_ACT}, {"leaky-slope", required_argument, NULL, O_SLOPE},
    {"init", required_argument, NULL, O_INIT}, {"dropout", required_argument, NULL, O_DROPOUT},
    {"opt", required_argument, NULL, O_OPT}, {"lr", required_argument, NULL, O_LR},
    {"momentum", required_argument, NULL, O_MOMENTUM}, {"nesterov", no_argument, NULL, O_NESTEROV},
    {"beta1", required_argument, NULL, O_BETA1}, {"beta2", required_argument, NULL, O_BETA2},
    {"eps", required_argument, NULL, O_EPS}, {"weight-decay", required_argument, NULL, O_WD},
    {"schedule", required_argument, NULL, O_SCHEDULE}, {"warmup", required_argument, NULL, O_WARMUP},
    {"batch", required_argument, NULL, O_BATCH}, {"epochs", required_argument, NULL, O_EPOCHS},
    {"early-stop", required_argument, NULL, O_EARLY}, {"seed", required_argument, NULL, O_SEED},
    {"preset", required_argument, NULL, O_PRESET}, {"out", required_argument, NULL, O_OUT},
    {"log-every", required_argument, NULL, O_LOG_EVERY}, {"quiet", no_argument, NULL, O_QUIET},
    {"device", required_argument, NULL, O_DEVICE}, {"help", no_argument, NULL, O_HELP},
    {"profile", no_argument, NULL, O_PROFILE}, {"snapshots", required_argument, NULL, O_SNAPSHOTS},
    {"no-report", no_argument, NULL, O_NO_REPORT},
    {"checkpoint-every", required_argument, NULL, O_CHECKPOINT_EVERY},
    {"distributed", no_argument, NULL, O_DISTRIBUTED},
    {NULL, 0, NULL, 0},
};
int train_option_arity(const char *name)
{
    for (const struct option *p = opts; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p->has_arg == required_argument ? 1 : 0;
    return -1;
}

int train_options_parse(train_options *o, const cli_globals *g, int argc, char **argv)
{
    set_defaults(o, g);
    /* A preset sets defaults that the other flags then override, so find it first. */
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--preset") == 0 && i + 1 < argc)
            v = argv[i + 1];
        else if (strncmp(argv[i], "--preset=", 9) == 0)
            v = argv[i] + 9;
        if (!v)
            continue;
        if (strcmp(v, "tutorial") == 0 || strcmp(v, "tutorial-faithful") == 0) {
            o->preset = v;
            apply_preset(o, strcmp(v, "tutorial-faithful") == 0);
        } else if (strcmp(v, "cnn") == 0) {
            o->preset = v;
            apply_cnn_preset(o);
        } else {
            cli_error("--preset: '%s' is not tutorial, tutorial-faithful or cnn", v);
            return CLI_USAGE;
        }
    }
    optind = 1;
    opterr = 0;
    int c;
    size_t sz = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        bool ok = true;
        if (c >= O_DATA && c - O_DATA < 64)
            o->given |= 1ULL << (c - O_DATA);
        switch (c) {
        case O_DATA: o->data = optarg; break;
        case O_LABEL: o->label = optarg; break;
        case O_TASK: ok = parse_task(optarg, o); break;
        case O_TEST: o->test_file = optarg; break;
        case O_TEST_SPLIT: ok = parse_double("--test-split", optarg, 0, 0.9, true, &o->test_split); break;
        case O_VAL: ok = parse_double("--val", optarg, 0, 1e9, false, &o->val); break;
        case O_LIMIT: ok = parse_size("--limit", optarg, 1, (size_t)1 << 31, &o->limit); break;
        case O_LAYERS: ok = parse_layers(optarg, o); break;
        case O_ACT:
            if (strcmp(optarg, "identity") == 0 || nncl_act_parse(optarg, &o->act) != NNCL_OK) {
                cli_error("--act: '%s' is not relu, leaky_relu, sigmoid or tanh", optarg);
                ok = false;
            }
            break;
        case O_SLOPE: ok = parse_float("--leaky-slope", optarg, 0, 1, true, &o->act_param); break;
        case O_INIT: ok = parse_init(optarg, o); break;
        case O_DROPOUT: ok = parse_float("--dropout", optarg, 0, 0.99, false, &o->dropout); break;
        case O_OPT: ok = parse_opt(optarg, o); break;
        case O_LR: ok = parse_float("--lr", optarg, 0, 1e3, true, &o->schedule.lr); break;
        case O_MOMENTUM: ok = parse_float("--momentum", optarg, 0, 0.9999, false, &o->optim.momentum); break;
        case O_NESTEROV: o->optim.nesterov = true; break;
        case O_BETA1: ok = parse_float("--beta1", optarg, 0, 0.9999, false, &o->optim.beta1); break;
        case O_BETA2: ok = parse_float("--beta2", optarg, 0, 0.999999, false, &o->optim.beta2); break;
        case O_EPS: ok = parse_float("--eps", optarg, 0, 1, true, &o->optim.eps); break;
        case O_WD: ok = parse_float("--weight-decay", optarg, 0, 10, false, &o->optim.weight_decay); break;
        case O_SCHEDULE: ok = parse_schedule(optarg, o); break;
        case O_WARMUP: ok = parse_float("--warmup", optarg, 0, 1e6, false, &o->schedule.warmup_epochs); break;
        case O_BATCH: ok = parse_size("--batch", optarg, 0, (size_t)1 << 31, &o->batch); break;
        case O_EPOCHS: ok = parse_int("--epochs", optarg, 1, 1000000, &o->epochs); break;
        case O_EARLY: ok = parse_int("--early-stop", optarg, 0, 1000000, &o->early_stop); break;
        case O_SEED:
            ok = parse_size("--seed", optarg, 0, SIZE_MAX, &sz);
            o->seed = sz;
            break;
        case O_PRESET: break; /* applied above */
        case O_OUT: o->out_dir = optarg; break;
        case O_LOG_EVERY: ok = parse_int("--log-every", optarg, 1, 1000000, &o->log_every); break;
        case O_QUIET: o->quiet = true; break;
        case O_PROFILE: o->profile = true; break;
        case O_SNAPSHOTS:
            ok = parse_int("--snapshots", optarg, 0, NNCL_SNAPSHOT_MAX, &o->snapshots);
            if (ok && o->snapshots == 1) {
                cli_error("--snapshots: 1 is too few: the first and the last step take 2 (0 turns them off)");
                ok = false;
            }
            break;
        case O_NO_REPORT: o->no_report = true; break;
        case O_DISTRIBUTED: o->distributed = true; break;
        case O_CHECKPOINT_EVERY:
            ok = parse_int("--checkpoint-every", optarg, 0, 1000000, &o->checkpoint_every);
            break;
        case O_DEVICE: o->device = optarg; break;
        case 'h':
        case O_HELP: usage(stdout); return -1;
        case ':': cli_error("%s needs a value (see nncl train --help)", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl train --help)", argv[optind - 1]); return CLI_USAGE;
        }
        if (!ok)
            return CLI_USAGE;
    }
    if (optind < argc) {
        cli_error("unexpected argument '%s' (see nncl train --help)", argv[optind]);
        return CLI_USAGE;
    }
    if (o->val >= 1 && o->val != floor(o->val)) {
        cli_error("--val: '%g' is neither a fraction below 1 nor a whole count", o->val);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static bool given(const train_options *o, int opt) { return (o->given >> (opt - O_DATA)) & 1; }

void train_options_warn(const train_options *o, bool idx_data)
{
    const char *opt = optim_name(o->optim.kind);
    bool momentum = o->optim.kind == NNCL_OPTIM_MOMENTUM;
    bool adam = o->optim.kind == NNCL_OPTIM_ADAM || o->optim.kind == NNCL_OPTIM_ADAMW;
    if ((given(o, O_MOMENTUM) || given(o, O_NESTEROV)) && !momentum)
        cli_warning("--momentum and --nesterov apply to --opt momentum; with --opt %s they are ignored", opt);
    if ((given(o, O_BETA1) || given(o, O_BETA2) || given(o, O_EPS)) && !adam)
        cli_warning("--beta1, --beta2 and --eps apply to --opt adam and adamw; with --opt %s they are ignored", opt);
    if (given(o, O_SLOPE) && o->act != NNCL_ACT_LEAKY_RELU)
        cli_warning("--leaky-slope applies to --act leaky_relu; with --act %s it is ignored", nncl_act_name(o->act));
    if (given(o, O_EARLY) && o->early_stop > 0 && o->val == 0)
        cli_warning("--early-stop needs a validation set, and --val 0 leaves none: it is ignored");
    if (given(o, O_LABEL) && idx_data)
        cli_warning("--label names a CSV column; IDX data (%s) has its own labels, so it is ignored",
                    o->data ? o->data : "mnist");
}
