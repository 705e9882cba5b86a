/* The training speed the default device is chosen by (train_speed.c). */
#ifndef NNCL_CLI_TRAIN_SPEED_H
#define NNCL_CLI_TRAIN_SPEED_H

#include "nncl/device.h"

/* One Adam step of 784-128-10 at batch 128 on random bytes, timed for at
 * least half a second after a warm-up: seconds per step and its FLOPs. */
nncl_status cli_train_speed(nncl_device *dev, double *seconds, double *flops);

/* Before a command opens the default device: where two or more devices
 * exist, NNCL_DEVICE is unset and NNCL_TUNE allows first-use work, measure
 * the speed of every device that has no figure yet and keep it, so the
 * device list's default is the fastest. Says so on stderr; a device that
 * fails is warned about and left unknown. */
void cli_settle_default_device(void);

#endif
