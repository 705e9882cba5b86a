/* The class names of the built-in datasets. */
#include "nncl/data.h"

const char *const nncl_mnist_class_names[10] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
};

/* From Zalando's Fashion-MNIST README (label 0..9). */
const char *const nncl_fashion_mnist_class_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};
