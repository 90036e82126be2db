/* Decision tree, ported by micromlgen (from vigil.export.micromlgen_port); do not edit.
 * Use: Eloquent::ML::Port::StressTree model; int c = model.predict(x);
 * Returns the class index; classes in index order: 0, 1.
 * Features: float x[f] = a_f * raw_f + b_f (raw in the device's int units):
 *   f0: a = 0.0005659309564233163, b = -3.8522920203735147
 *   f1: a = 5.505698397841766e-05, b = -3.8529978527776243
 *   f2: a = 0.0001245795440388688, b = -0.38644574560857103
 *   f3: a = 0.0002232641214556821, b = -0.8432685867381112
 *   f4: a = 0.00021992522542335603, b = -0.24147789751484497
 *   f5: a = 0.00030674846625766873, b = -1.5711656441717792
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
                        if (x[1] <= 0.48609811067581177) {
                            if (x[2] <= 0.5034882128238678) {
                                if (x[0] <= 0.6137521266937256) {
                                    if (x[1] <= 0.3628805875778198) {
                                        if (x[2] <= 0.13348698243498802) {
                                            return 0;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }

                                    else {
                                        if (x[3] <= 0.277182400226593) {
                                            return 1;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }
                                }

                                else {
                                    return 1;
                                }
                            }

                            else {
                                return 0;
                            }
                        }

                        else {
                            if (x[0] <= 0.3115449845790863) {
                                if (x[0] <= 0.2651386559009552) {
                                    return 0;
                                }

                                else {
                                    if (x[0] <= 0.27334465086460114) {
                                        return 0;
                                    }

                                    else {
                                        return 0;
                                    }
                                }
                            }

                            else {
                                if (x[3] <= 0.5117213726043701) {
                                    if (x[5] <= 0.6947852969169617) {
                                        if (x[5] <= 0.4659509211778641) {
                                            return 0;
                                        }

                                        else {
                                            return 1;
                                        }
                                    }

                                    else {
                                        if (x[4] <= 0.6344842910766602) {
                                            return 0;
                                        }

                                        else {
                                            return 0;
                                        }
                                    }
                                }

                                else {
                                    if (x[0] <= 0.3248443603515625) {
                                        return 0;
                                    }

                                    else {
                                        return 0;
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