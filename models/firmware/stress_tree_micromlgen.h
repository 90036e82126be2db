/* Decision tree, ported by micromlgen (from vigil.export.micromlgen_port); do not edit.
 * Use: Eloquent::ML::Port::StressTree model; int c = model.predict(x);
 * Returns the class index; classes in index order: 0, 1.
 * Features: float x[f] = a_f * raw_f + b_f (raw in the device's int units):
 *   f0: a = 0.00026150627615062765, b = -1.7060669456066941
 *   f1: a = 2.9421283356380004e-05, b = -1.705934272852982
 *   f2: a = 5.993048064245475e-05, b = -0.042610571736785334
 *   f3: a = 3.214607175003216e-05, b = -0.03635720714928635
 *   f4: a = 0.00025, b = 0.0
 *   f5: a = 0.0002681684097613301, b = 0.0
 */
#include <stdint.h>
#include <math.h>
#pragma once
#include <cstdarg>
namespace Eloquent {
    namespace ML {
        namespace Port {
            class StressTree {
                public:
                    /**
                    * Predict class for features vector
                    */
                    int predict(float *x) {
                        if (x[1] <= 0.3464944660663605) {
                            if (x[1] <= 0.2705875486135483) {
                                if (x[0] <= 0.6987447738647461) {
                                    if (x[1] <= 0.2281179204583168) {
                                        if (x[4] <= 0.1836249977350235) {
                                            return 0;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }

                                    else {
                                        if (x[1] <= 0.2584806829690933) {
                                            return 1;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }
                                }

                                else {
                                    if (x[4] <= 0.18074999749660492) {
                                        return 1;
                                    }

                                    else {
                                        if (x[4] <= 0.18562500178813934) {
                                            return 1;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }
                                }
                            }

                            else {
                                if (x[2] <= 0.17952175438404083) {
                                    if (x[1] <= 0.3162640929222107) {
                                        if (x[1] <= 0.2939774692058563) {
                                            return 1;
                                        }

                                        else {
                                            return 0;
                                        }
                                    }

                                    else {
                                        return 1;
                                    }
                                }

                                else {
                                    if (x[2] <= 0.3514922708272934) {
                                        if (x[1] <= 0.3114537000656128) {
                                            return 0;
                                        }

                                        else {
                                            return 0;
                                        }
                                    }

                                    else {
                                        return 1;
                                    }
                                }
                            }
                        }

                        else {
                            if (x[0] <= 0.20384414494037628) {
                                return 0;
                            }

                            else {
                                if (x[2] <= 0.19783052057027817) {
                                    if (x[5] <= 0.7688388228416443) {
                                        if (x[4] <= 0.14812500029802322) {
                                            return 0;
                                        }

                                        else {
                                            return 0;
                                        }
                                    }

                                    else {
                                        if (x[3] <= 0.08104024827480316) {
                                            return 0;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }
                                }

                                else {
                                    if (x[5] <= 0.6047197580337524) {
                                        if (x[2] <= 0.26555196940898895) {
                                            return 0;
                                        }

                                        else {
                                            return 0;
                                        }
                                    }

                                    else {
                                        if (x[2] <= 0.23016300797462463) {
                                            return 0;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }
                                }
                            }
                        }
                    }

                protected:
                };
            }
        }
    }