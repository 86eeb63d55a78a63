/* Elementwise kernels (k_binary.c, k_unary.c, k_activation.c, k_cast.c)
 * on small cases. Each expected array comes from the numpy expression in
 * the comment above it, evaluated with /usr/bin/python3 in the op's type
 * (np.float32 unless said) and printed to 9 digits; none comes from the
 * kernels or the ONNX node tests. Plus error cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kernel_cases.h"

#define V KT_V
#define F32 IR_ELEM_F32
#define SIG1(t) "%a0: tensor<*x" t ">"
#define SIG2(t) "%a0: tensor<*x" t ">, %a1: tensor<*x" t ">"
#define SIG3(t) SIG2(t) ", %a2: tensor<*x" t ">"
#define BIN(op, attrs, rt) "%y0 = " op "(%a0, %a1) {" attrs "} : tensor<*x" rt ">\nreturn %y0"
#define UN(op, attrs, rt) "%y0 = " op "(%a0) {" attrs "} : tensor<*x" rt ">\nreturn %y0"
#define X23 {F32, 2, {2, 3}, V(1, -2, 3, 4, 5, -6)}
/* the unary inputs */
#define XU {F32, 1, {6}, V(-2.5, -0.5, 0, 0.5, 1.5, 2.5)}
#define XA {F32, 1, {6}, V(-100, -2, -0.5, 0, 0.5, 3)}
#define O6(...) {1, {6}, V(__VA_ARGS__)}
#define UCASE(name, op, ...) {name, SIG1("f32"), UN(op, "", "f32"), 1, {XU}, 1, {O6(__VA_ARGS__)}}
#define ACASE(name, op, attrs, ...) {name, SIG1("f32"), UN(op, attrs, "f32"), 1, {XA}, 1, {O6(__VA_ARGS__)}}

static const NodeCase BINARY_CASES[] = {
    /* A = [[1,-2,3],[4,5,-6]]; A + [0.5,-1.5,2] */
    {"add", SIG2("f32"), BIN("Add", "", "f32"), 2, {X23, {F32, 1, {3}, V(0.5, -1.5, 2)}}, 1,
     {{2, {2, 3}, V(1.5, -3.5, 5, 4.5, 3.5, -4)}}},
    /* [[1],[-2]] - [[3,0.25,-1]] */
    {"sub", SIG2("f32"), BIN("Sub", "", "f32"), 2, {{F32, 2, {2, 1}, V(1, -2)}, {F32, 2, {1, 3}, V(3, 0.25, -1)}},
     1, {{2, {2, 3}, V(-2, 0.75, 2, -5, -2.25, -1)}}},
    /* A * np.float32(2.5) (scalar operand) */
    {"mul_scalar", SIG2("f32"), BIN("Mul", "", "f32"), 2, {X23, {F32, 0, {0}, V(2.5)}}, 1,
     {{2, {2, 3}, V(2.5, -5, 7.5, 10, 12.5, -15)}}},
    /* A / [[2],[-4]] */
    {"div", SIG2("f32"), BIN("Div", "", "f32"), 2, {X23, {F32, 2, {2, 1}, V(2, -4)}}, 1,
     {{2, {2, 3}, V(0.5, -1, 1.5, -1, -1.25, 1.5)}}},
    /* np.power([2,3,.5,4], [3,-1,2,.5]) */
    {"pow", SIG2("f32"), BIN("Pow", "", "f32"), 2, {{F32, 1, {4}, V(2, 3, 0.5, 4)}, {F32, 1, {4}, V(3, -1, 2, 0.5)}},
     1, {{1, {4}, V(8, 0.333333343, 0.25, 2)}}},
    /* np.power(f32 [1.5,-2,4], int64 [2,3,-1]).astype(np.float32) */
    {"pow_int_exp", "%a0: tensor<*xf32>, %a1: tensor<*xi64>", BIN("Pow", "", "f32"), 2,
     {{F32, 1, {3}, V(1.5, -2, 4)}, {IR_ELEM_I64, 1, {3}, V(2, 3, -1)}}, 1, {{1, {3}, V(2.25, -8, 0.25)}}},
    /* np.power(int32 [2,-3,5,7], int32 [3,3,0,1]) */
    {"pow_int", SIG2("i32"), BIN("Pow", "", "i32"), 2,
     {{IR_ELEM_I32, 1, {4}, V(2, -3, 5, 7)}, {IR_ELEM_I32, 1, {4}, V(3, 3, 0, 1)}}, 1, {{1, {4}, V(8, -27, 1, 7)}}},
    /* a = int32 [-7,7,-7,7,5], b = [2,2,-2,-2,3]: np.mod(a, b) */
    {"mod0", SIG2("i32"), BIN("Mod", "", "i32"), 2,
     {{IR_ELEM_I32, 1, {5}, V(-7, 7, -7, 7, 5)}, {IR_ELEM_I32, 1, {5}, V(2, 2, -2, -2, 3)}}, 1,
     {{1, {5}, V(1, 1, -1, -1, 2)}}},
    /* np.fmod(a, b) */
    {"mod1", SIG2("i32"), BIN("Mod", "fmod = 1", "i32"), 2,
     {{IR_ELEM_I32, 1, {5}, V(-7, 7, -7, 7, 5)}, {IR_ELEM_I32, 1, {5}, V(2, 2, -2, -2, 3)}}, 1,
     {{1, {5}, V(-1, 1, -1, 1, 2)}}},
    /* np.fmod(f32 [5.5,-5.5,7.25], [2,2,-3]) */
    {"fmod_f32", SIG2("f32"), BIN("Mod", "fmod = 1", "f32"), 2,
     {{F32, 1, {3}, V(5.5, -5.5, 7.25)}, {F32, 1, {3}, V(2, 2, -3)}}, 1, {{1, {3}, V(1.5, -1.5, 1.25)}}},
    /* np.trunc(a / b).astype(np.int32): integer division truncates */
    {"div_int", SIG2("i32"), BIN("Div", "", "i32"), 2,
     {{IR_ELEM_I32, 1, {5}, V(-7, 7, -7, 7, 5)}, {IR_ELEM_I32, 1, {5}, V(2, 2, -2, -2, 3)}}, 1,
     {{1, {5}, V(-3, 3, 3, -3, 1)}}},
    /* np.left_shift(uint8 [1,2,3,255], [1,2,3,1]) */
    {"shl", SIG2("u8"), BIN("BitShift", "direction = \"LEFT\"", "u8"), 2,
     {{IR_ELEM_U8, 1, {4}, V(1, 2, 3, 255)}, {IR_ELEM_U8, 1, {4}, V(1, 2, 3, 1)}}, 1, {{1, {4}, V(2, 8, 24, 254)}}},
    /* np.right_shift(uint8 [16,4,255,1], [1,2,3,1]) */
    {"shr", SIG2("u8"), BIN("BitShift", "direction = \"RIGHT\"", "u8"), 2,
     {{IR_ELEM_U8, 1, {4}, V(16, 4, 255, 1)}, {IR_ELEM_U8, 1, {4}, V(1, 2, 3, 1)}}, 1, {{1, {4}, V(8, 1, 31, 0)}}},
    /* x = [[T,F],[T,T]], y = [T,F]: x & y, x | y, x ^ y */
    {"and", SIG2("bool"), BIN("And", "", "bool"), 2,
     {{IR_ELEM_BOOL, 2, {2, 2}, V(1, 0, 1, 1)}, {IR_ELEM_BOOL, 1, {2}, V(1, 0)}}, 1, {{2, {2, 2}, V(1, 0, 1, 0)}}},
    {"or", SIG2("bool"), BIN("Or", "", "bool"), 2,
     {{IR_ELEM_BOOL, 2, {2, 2}, V(1, 0, 1, 1)}, {IR_ELEM_BOOL, 1, {2}, V(1, 0)}}, 1, {{2, {2, 2}, V(1, 0, 1, 1)}}},
    {"xor", SIG2("bool"), BIN("Xor", "", "bool"), 2,
     {{IR_ELEM_BOOL, 2, {2, 2}, V(1, 0, 1, 1)}, {IR_ELEM_BOOL, 1, {2}, V(1, 0)}}, 1, {{2, {2, 2}, V(0, 0, 0, 1)}}},
    /* e1 = [[1,2,3],[3,2,1]], e2 = [2,2,2]: e1 == e2, >, >=, <, <= */
#define E12 {{F32, 2, {2, 3}, V(1, 2, 3, 3, 2, 1)}, {F32, 1, {3}, V(2, 2, 2)}}
    {"eq", SIG2("f32"), BIN("Equal", "", "bool"), 2, E12, 1, {{2, {2, 3}, V(0, 1, 0, 0, 1, 0)}}},
    {"gt", SIG2("f32"), BIN("Greater", "", "bool"), 2, E12, 1, {{2, {2, 3}, V(0, 0, 1, 1, 0, 0)}}},
    {"ge", SIG2("f32"), BIN("GreaterOrEqual", "", "bool"), 2, E12, 1, {{2, {2, 3}, V(0, 1, 1, 1, 1, 0)}}},
    {"lt", SIG2("f32"), BIN("Less", "", "bool"), 2, E12, 1, {{2, {2, 3}, V(1, 0, 0, 0, 0, 1)}}},
    {"le", SIG2("f32"), BIN("LessOrEqual", "", "bool"), 2, E12, 1, {{2, {2, 3}, V(1, 1, 0, 0, 1, 1)}}},
    /* int64 [-5,0,7] > [-6,0,8] */
    {"gt_i64", SIG2("i64"), BIN("Greater", "", "bool"), 2,
     {{IR_ELEM_I64, 1, {3}, V(-5, 0, 7)}, {IR_ELEM_I64, 1, {3}, V(-6, 0, 8)}}, 1, {{1, {3}, V(1, 0, 0)}}},
    /* np.where(A < 0, A * [.1,.2,.3], A) */
    {"prelu", SIG2("f32"), BIN("PRelu", "", "f32"), 2, {X23, {F32, 1, {3}, V(0.1, 0.2, 0.3)}}, 1,
     {{2, {2, 3}, V(1, -0.400000006, 3, 4, 5, -1.80000007)}}},
    /* int8 [100,-100,5] + [100,-100,-10] wraps */
    {"add_i8", SIG2("i8"), BIN("Add", "", "i8"), 2,
     {{IR_ELEM_I8, 1, {3}, V(100, -100, 5)}, {IR_ELEM_I8, 1, {3}, V(100, -100, -10)}}, 1, {{1, {3}, V(-56, 56, -5)}}},
    /* float64 1 + 1e-10 (would round away in f32) */
    {"add_f64", SIG2("f64"), BIN("Add", "", "f64"), 2, {{IR_ELEM_F64, 1, {1}, V(1)}, {IR_ELEM_F64, 1, {1}, V(1e-10)}},
     1, {{1, {1}, V(1.0000000001)}}},
    /* m1 = [[1,5],[3,-2]], m2 = [2,2], m3 = [[0],[4]]: np.maximum(np.maximum(m1, m2), m3),
     * np.minimum(...), m1 + m2 + m3, (m1 + m2 + m3) / np.float32(3) */
#define M123 {{F32, 2, {2, 2}, V(1, 5, 3, -2)}, {F32, 1, {2}, V(2, 2)}, {F32, 2, {2, 1}, V(0, 4)}}
#define VAR(op) "%y0 = " op "(%a0, %a1, %a2) : tensor<*xf32>\nreturn %y0"
    {"max", SIG3("f32"), VAR("Max"), 3, M123, 1, {{2, {2, 2}, V(2, 5, 4, 4)}}},
    {"min", SIG3("f32"), VAR("Min"), 3, M123, 1, {{2, {2, 2}, V(0, 0, 2, -2)}}},
    {"sum", SIG3("f32"), VAR("Sum"), 3, M123, 1, {{2, {2, 2}, V(3, 7, 9, 4)}}},
    {"mean", SIG3("f32"), VAR("Mean"), 3, M123, 1, {{2, {2, 2}, V(1, 2.33333325, 3, 1.33333337)}}},
    /* np.maximum(int32 [1,-5,9], [3,-7,2]) */
    {"max_i32", SIG2("i32"), BIN("Max", "", "i32"), 2,
     {{IR_ELEM_I32, 1, {3}, V(1, -5, 9)}, {IR_ELEM_I32, 1, {3}, V(3, -7, 2)}}, 1, {{1, {3}, V(3, -5, 9)}}},
    /* Max of one operand is a copy */
    {"max_one", SIG1("f32"), UN("Max", "", "f32"), 1, {{F32, 1, {2}, V(-1, 7)}}, 1, {{1, {2}, V(-1, 7)}}},
};

static const NodeCase UNARY_CASES[] = {
    /* x = [-2.5,-.5,0,.5,1.5,2.5]: np.abs(x), np.negative, np.floor, np.ceil, np.round (half to even),
     * np.sign, np.exp, np.sin, np.cos, np.tan, np.arctan, np.sinh, np.cosh, np.arcsinh, np.tanh;
     * erf: math.erf per element */
    UCASE("abs", "Abs", 2.5, 0.5, 0, 0.5, 1.5, 2.5),
    UCASE("neg", "Neg", 2.5, 0.5, -0, -0.5, -1.5, -2.5),
    UCASE("floor", "Floor", -3, -1, 0, 0, 1, 2),
    UCASE("ceil", "Ceil", -2, -0, 0, 1, 2, 3),
    UCASE("round", "Round", -2, -0, 0, 0, 2, 2),
    UCASE("sign", "Sign", -1, -1, 0, 1, 1, 1),
    UCASE("exp", "Exp", 0.0820850059, 0.606530666, 1, 1.64872122, 4.48168898, 12.1824932),
    UCASE("sin", "Sin", -0.598472178, -0.47942555, 0, 0.47942555, 0.997494996, 0.598472178),
    UCASE("cos", "Cos", -0.801143587, 0.87758255, 1, 0.87758255, 0.070737198, -0.801143587),
    UCASE("tan", "Tan", 0.747022271, -0.546302497, 0, 0.546302497, 14.1014204, -0.747022271),
    UCASE("atan", "Atan", -1.19028997, -0.463647604, 0, 0.463647604, 0.982793748, 1.19028997),
    UCASE("sinh", "Sinh", -6.05020428, -0.521095276, 0, 0.521095276, 2.12927938, 6.05020428),
    UCASE("cosh", "Cosh", 6.13228989, 1.12762606, 1, 1.12762606, 2.3524096, 6.13228989),
    UCASE("asinh", "Asinh", -1.6472311, -0.481211811, 0, 0.481211811, 1.19476318, 1.6472311),
    UCASE("tanh", "Tanh", -0.986614287, -0.462117195, 0, 0.462117195, 0.905148208, 0.986614287),
    UCASE("erf", "Erf", -0.999593019, -0.520499885, 0, 0.520499885, 0.966105163, 0.999593019),
    /* p = [.25,1,2,9]: np.sqrt(p), np.log(p), 1 / p */
#define XP {F32, 1, {4}, V(0.25, 1, 2, 9)}
    {"sqrt", SIG1("f32"), UN("Sqrt", "", "f32"), 1, {XP}, 1, {{1, {4}, V(0.5, 1, 1.41421354, 3)}}},
    {"log", SIG1("f32"), UN("Log", "", "f32"), 1, {XP}, 1, {{1, {4}, V(-1.38629436, 0, 0.693147182, 2.19722462)}}},
    {"recip", SIG1("f32"), UN("Reciprocal", "", "f32"), 1, {XP}, 1, {{1, {4}, V(4, 1, 0.5, 0.111111112)}}},
    /* q = [-.5,0,.75]: np.arcsin(q), np.arccos(q), np.arctanh(q); np.arccosh([1,2,3]) */
#define XQ {F32, 1, {3}, V(-0.5, 0, 0.75)}
    {"asin", SIG1("f32"), UN("Asin", "", "f32"), 1, {XQ}, 1, {{1, {3}, V(-0.52359879, 0, 0.848062158)}}},
    {"acos", SIG1("f32"), UN("Acos", "", "f32"), 1, {XQ}, 1, {{1, {3}, V(2.09439516, 1.57079637, 0.722734213)}}},
    {"atanh", SIG1("f32"), UN("Atanh", "", "f32"), 1, {XQ}, 1, {{1, {3}, V(-0.549306154, 0, 0.972955048)}}},
    {"acosh", SIG1("f32"), UN("Acosh", "", "f32"), 1, {{F32, 1, {3}, V(1, 2, 3)}}, 1,
     {{1, {3}, V(0, 1.31695795, 1.76274717)}}},
    /* integer forms: np.abs / np.negative / np.sign of int32 [-3,0,5] */
    {"abs_i32", SIG1("i32"), UN("Abs", "", "i32"), 1, {{IR_ELEM_I32, 1, {3}, V(-3, 0, 5)}}, 1, {{1, {3}, V(3, 0, 5)}}},
    {"neg_i32", SIG1("i32"), UN("Neg", "", "i32"), 1, {{IR_ELEM_I32, 1, {3}, V(-3, 0, 5)}}, 1, {{1, {3}, V(3, 0, -5)}}},
    {"sign_i32", SIG1("i32"), UN("Sign", "", "i32"), 1, {{IR_ELEM_I32, 1, {3}, V(-3, 0, 5)}}, 1, {{1, {3}, V(-1, 0, 1)}}},
    /* np.logical_not, np.isnan, np.isinf (and only +inf / only -inf) of [1, nan, inf, -inf] */
    {"not", SIG1("bool"), UN("Not", "", "bool"), 1, {{IR_ELEM_BOOL, 1, {2}, V(1, 0)}}, 1, {{1, {2}, V(0, 1)}}},
#define XS {F32, 1, {4}, V(1, NAN, INFINITY, -INFINITY)}
    {"isnan", SIG1("f32"), UN("IsNaN", "", "bool"), 1, {XS}, 1, {{1, {4}, V(0, 1, 0, 0)}}},
    {"isinf", SIG1("f32"), UN("IsInf", "", "bool"), 1, {XS}, 1, {{1, {4}, V(0, 0, 1, 1)}}},
    {"isinf_pos", SIG1("f32"), UN("IsInf", "detect_negative = 0", "bool"), 1, {XS}, 1, {{1, {4}, V(0, 0, 1, 0)}}},
    {"isinf_neg", SIG1("f32"), UN("IsInf", "detect_positive = 0", "bool"), 1, {XS}, 1, {{1, {4}, V(0, 0, 0, 1)}}},
};

static const NodeCase ACTIVATION_CASES[] = {
    /* z = [-100,-2,-.5,0,.5,3] (float32); the formulas of the ONNX spec:
     * relu np.maximum(z, 0); leaky np.where(z < 0, .1 * z, z);
     * sigmoid 1 / (1 + np.exp(-z)) in float64 rounded to float32;
     * hardsigmoid np.clip(.25 * z + .4, 0, 1); hardswish z * np.clip(z / 6 + .5, 0, 1);
     * softplus np.log1p(np.exp(z)) in float64; softsign z / (1 + np.abs(z));
     * elu(alpha .5) np.where(z < 0, .5 * (np.exp(z) - 1), z);
     * selu np.where(z <= 0, g * (a * np.exp(z) - a), g * z) with the spec's a, g;
     * celu(alpha 2) np.maximum(0, z) + np.minimum(0, 2 * (np.exp(z / 2) - 1));
     * mish z * np.tanh(np.log1p(np.exp(z))) in float64;
     * gelu .5 * z * (1 + math.erf(z / math.sqrt(2)));
     * gelu tanh .5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + .044715 * z**3)));
     * shrink(lambd 1, bias .5) np.where(z < -1, z + .5, np.where(z > 1, z - .5, 0));
     * thresholdedrelu(alpha .5) np.where(z > .5, z, 0); clip np.minimum(np.maximum(z, -1), 2) */
    ACASE("relu", "Relu", "", 0, 0, 0, 0, 0.5, 3),
    ACASE("leaky", "LeakyRelu", "alpha = 0.1", -10, -0.200000003, -0.0500000007, 0, 0.5, 3),
    ACASE("sigmoid", "Sigmoid", "", 3.78350585e-44, 0.119202919, 0.377540678, 0.5, 0.622459352, 0.952574134),
    ACASE("hsigmoid", "HardSigmoid", "alpha = 0.25, beta = 0.4", 0, 0, 0.275000006, 0.400000006, 0.524999976, 1),
    ACASE("hswish", "HardSwish", "", -0, -0.333333313, -0.208333328, 0, 0.291666657, 3),
    ACASE("softplus", "Softplus", "", 3.78350585e-44, 0.126928017, 0.474076986, 0.693147182, 0.974076986, 3.04858732),
    ACASE("softsign", "Softsign", "", -0.990099013, -0.666666687, -0.333333343, 0, 0.333333343, 0.75),
    ACASE("elu", "Elu", "alpha = 0.5", -0.5, -0.432332367, -0.196734667, 0, 0.5, 3),
    ACASE("selu", "Selu", "", -1.75809932, -1.52016652, -0.691758215, 0, 0.525350511, 3.15210295),
    ACASE("celu", "Celu", "alpha = 2.0", -2, -1.26424122, -0.442398548, 0, 0.5, 3),
    ACASE("mish", "Mish", "", -3.72044742e-42, -0.252501488, -0.220743775, 0, 0.375245214, 2.98653507),
    ACASE("gelu", "Gelu", "", -0, -0.0455002636, -0.154268771, 0, 0.345731229, 2.99595022),
    ACASE("gelu_tanh", "Gelu", "approximate = \"tanh\"", -0, -0.0454023071, -0.154285997, 0, 0.345714003, 2.99636269),
    ACASE("shrink", "Shrink", "bias = 0.5, lambd = 1.0", -99.5, -1.5, 0, 0, 0, 2.5),
    ACASE("thresh", "ThresholdedRelu", "alpha = 0.5", 0, 0, 0, 0, 0, 3),
    {"clip", SIG3("f32"), "%y0 = Clip(%a0, %a1, %a2) : tensor<*xf32>\nreturn %y0", 3,
     {XA, {F32, 0, {0}, V(-1)}, {F32, 0, {0}, V(2)}}, 1, {O6(-1, -1, -0.5, 0, 0.5, 2)}},
    /* np.minimum(z, .25): min absent */
    {"clip_max_only", SIG3("f32"), "%y0 = Clip(%a0, none, %a2) : tensor<*xf32>\nreturn %y0", 3,
     {XA, {F32, -1, {0}, NULL}, {F32, 0, {0}, V(0.25)}}, 1, {O6(-100, -2, -0.5, 0, 0.25, 0.25)}},
    /* np.clip(int32 [-5,0,3,9], -2, 4) */
    {"clip_i32", SIG3("i32"), "%y0 = Clip(%a0, %a1, %a2) : tensor<*xi32>\nreturn %y0", 3,
     {{IR_ELEM_I32, 1, {4}, V(-5, 0, 3, 9)}, {IR_ELEM_I32, 0, {0}, V(-2)}, {IR_ELEM_I32, 0, {0}, V(4)}}, 1,
     {{1, {4}, V(-2, 0, 3, 4)}}},
    /* np.clip(z, 1, -1): min > max gives max everywhere */
    {"clip_crossed", SIG3("f32"), "%y0 = Clip(%a0, %a1, %a2) : tensor<*xf32>\nreturn %y0", 3,
     {XA, {F32, 0, {0}, V(1)}, {F32, 0, {0}, V(-1)}}, 1, {O6(-1, -1, -1, -1, -1, -1)}},
};

/* Narrow float types: exact expected values (tol 0). */
static const NodeCase NARROW_CASES[] = {
    /* h1 = np.float16([.1, 1000, -3.5]), h2 = np.float16([.2, .5, 1.25]): h1 + h2 */
    {"add_f16", SIG2("f16"), BIN("Add", "", "f16"), 2,
     {{IR_ELEM_F16, 1, {3}, V(0.1, 1000, -3.5)}, {IR_ELEM_F16, 1, {3}, V(0.2, 0.5, 1.25)}}, 1,
     {{1, {3}, V(0.2998046875, 1000.5, -2.25)}}},
    /* h = np.float16([-3,-.5,.25,2]): (1 / (1 + np.exp(-h.astype(np.float32)))).astype(np.float16) */
    {"sigmoid_f16", SIG1("f16"), UN("Sigmoid", "", "f16"), 1, {{IR_ELEM_F16, 1, {4}, V(-3, -0.5, 0.25, 2)}}, 1,
     {{1, {4}, V(0.04742431640625, 0.37744140625, 0.56201171875, 0.880859375)}}},
    /* bfloat16 (round to nearest even of float32): a = [1.5,-3.25,100.5], b = bf16([3,.1,7]) =
     * [3,.10009765625,7]: bf16(np.float32(a) * np.float32(b)) */
    {"mul_bf16", SIG2("bf16"), BIN("Mul", "", "bf16"), 2,
     {{IR_ELEM_BF16, 1, {3}, V(1.5, -3.25, 100.5)}, {IR_ELEM_BF16, 1, {3}, V(3, 0.1, 7)}}, 1,
     {{1, {3}, V(4.5, -0.326171875, 704)}}},
    /* bf16(np.tanh(np.float32(a))) */
    {"tanh_bf16", SIG1("bf16"), UN("Tanh", "", "bf16"), 1, {{IR_ELEM_BF16, 1, {3}, V(1.5, -3.25, 100.5)}}, 1,
     {{1, {3}, V(0.90625, -0.99609375, 1)}}},
};

static void test_binary(void **state) {
  (void)state;
  kt_cases(BINARY_CASES, KT_COUNT(BINARY_CASES), 1e-6);
}

static void test_unary(void **state) {
  (void)state;
  kt_cases(UNARY_CASES, KT_COUNT(UNARY_CASES), 1e-6);
}

static void test_activation(void **state) {
  (void)state;
  kt_cases(ACTIVATION_CASES, KT_COUNT(ACTIVATION_CASES), 1e-6);
}

static void test_narrow_floats(void **state) {
  (void)state;
  kt_cases(NARROW_CASES, KT_COUNT(NARROW_CASES), 0);
}

static const NodeCase CAST_CASES[] = {
    /* np.float32([-2.7,-.5,.9,3.99,300]).astype(np.int32): truncation */
    {"f32_i32", SIG1("f32"), UN("Cast", "to = 6", "i32"), 1, {{F32, 1, {5}, V(-2.7, -0.5, 0.9, 3.99, 300)}}, 1,
     {{1, {5}, V(-2, 0, 0, 3, 300)}}},
    /* np.int32([300,-1,-129]).astype(np.uint8) and .astype(np.int8): wrap-around */
    {"i32_u8", SIG1("i32"), UN("Cast", "to = 2", "u8"), 1, {{IR_ELEM_I32, 1, {3}, V(300, -1, -129)}}, 1,
     {{1, {3}, V(44, 255, 127)}}},
    {"i32_i8", SIG1("i32"), UN("Cast", "to = 3", "i8"), 1, {{IR_ELEM_I32, 1, {3}, V(300, -1, -129)}}, 1,
     {{1, {3}, V(44, -1, 127)}}},
    /* np.float32([0,-.5,nan]).astype(bool) */
    {"f32_bool", SIG1("f32"), UN("Cast", "to = 9", "bool"), 1, {{F32, 1, {3}, V(0, -0.5, NAN)}}, 1,
     {{1, {3}, V(0, 1, 1)}}},
    /* np.float32([.1,65519,1e-8]).astype(np.float16) (65520 -> inf: test_cast_exact) */
    {"f32_f16", SIG1("f32"), UN("Cast", "to = 10", "f16"), 1, {{F32, 1, {3}, V(0.1, 65519, 1e-8)}}, 1,
     {{1, {3}, V(0.0999755859375, 65504, 0)}}},
    /* CastLike(f32 [1.7,-1.2], i32) == np.float32([1.7,-1.2]).astype(np.int32) */
    {"cast_like", "%a0: tensor<*xf32>, %a1: tensor<*xi32>", BIN("CastLike", "", "i32"), 2,
     {{F32, 1, {2}, V(1.7, -1.2)}, {IR_ELEM_I32, 1, {1}, V(0)}}, 1, {{1, {2}, V(1, -1)}}},
};

/* i64 -> f32 (values that do not fit in doubles, so built here): expected
 * np.int64([16777217, -(2**40)-1, 2**62+2**38+1]).astype(np.float32) =
 * 16777216, -1099511627776, 4.611686568183202e+18 (= 2**62 + 2**39); and
 * np.float32(65520).astype(np.float16) = inf. */
static void test_cast_exact(void **state) {
  (void)state;
  int64_t d = 3;
  Tensor *x = tensor_new(IR_ELEM_I64, 1, &d);
  int64_t *xv = x->data;
  xv[0] = 16777217;
  xv[1] = -((int64_t)1 << 40) - 1;
  xv[2] = ((int64_t)1 << 62) + ((int64_t)1 << 38) + 1;
  KtRun r = kt_run(SIG1("i64"), UN("Cast", "to = 1", "f32"), &x);
  assert_true(r.ok);
  const float *y = r.out[0]->data;
  assert_true(y[0] == 16777216.0f && y[1] == -1099511627776.0f && y[2] == 4611686568183201792.0f);
  kt_free(&r);
  tensor_free(x);
  int64_t one = 1;
  const float big = 65520;
  x = kt_f32(1, &one, &big);
  r = kt_run(SIG1("f32"), UN("Cast", "to = 10", "f16"), &x);
  assert_true(r.ok && r.out[0]->elem == IR_ELEM_F16 && tensor_get_f64(r.out[0], 0) == INFINITY);
  kt_free(&r);
  tensor_free(x);
}

/* Cast to f8E4M3FN of [.3, 300, 1e6, inf, -inf, nan, -1e-7]. By hand from
 * the format (bias 7, 3 mantissa bits, max 448 = 0x7e, NaN 0x7f, no inf)
 * and the ONNX Cast table: .3 = 1.2 * 2^-2 -> 0x2a (1.25, nearest);
 * 300 lies between 288 (0x79) and 320 -> 0x79; saturate=1 clamps 1e6 and
 * ±inf to ±448 (0x7e/0xfe), saturate=0 gives NaN keeping the sign
 * (0x7f/0xff, as test_cast_no_saturate_FLOAT_to_FLOAT8E4M3FN has); -1e-7
 * underflows to -0 (0x80). */
static void test_cast_f8(void **state) {
  (void)state;
  int64_t d = 7;
  const float v[7] = {0.3f, 300, 1e6f, INFINITY, -INFINITY, NAN, -1e-7f};
  Tensor *x = kt_f32(1, &d, v);
  static const uint8_t want_sat[7] = {0x2a, 0x79, 0x7e, 0x7e, 0xfe, 0x7f, 0x80};
  static const uint8_t want_nosat[7] = {0x2a, 0x79, 0x7f, 0x7f, 0xff, 0x7f, 0x80};
  const char *bodies[3] = {UN("Cast", "to = 17", "f8E4M3FN"), UN("Cast", "saturate = 1, to = 17", "f8E4M3FN"),
                           UN("Cast", "saturate = 0, to = 17", "f8E4M3FN")};
  for (int b = 0; b < 3; b++) {
    KtRun r = kt_run(SIG1("f32"), bodies[b], &x);
    if (!r.ok) fail_msg("%s", r.err);
    assert_int_equal(r.out[0]->elem, IR_ELEM_F8E4M3FN);
    for (int i = 0; i < 7; i++) {
      uint64_t got = tensor_get_bits(r.out[0], i), want = b < 2 ? want_sat[i] : want_nosat[i];
      if (got != want) fail_msg("body %d element %d: got 0x%02x, want 0x%02x", b, i, (unsigned)got, (unsigned)want);
    }
    kt_free(&r);
  }
  tensor_free(x);
}

/* Cast to e8m0 by the ONNX reference's rule (onnx.numpy_helper.to_float8e8m0,
 * derived by hand on the float32 bits): the exponent field, plus one under
 * round_mode "up" (the default) when any mantissa bit is set, unless that
 * would turn 0xfe into NaN (saturate). 0 -> 0x00, .124 (2^-4 * 1.98) ->
 * 0x7c, .25 -> 0x7d, 1.1 -> 0x80, 2 -> 0x80, nan -> 0xff, 3e38 (2^127 *
 * 1.76) -> 0xfe. The first five are test_cast_e8m0_FLOAT_to_FLOAT8E8M0's. */
static void test_cast_e8m0(void **state) {
  (void)state;
  int64_t d = 7;
  const float v[7] = {0, 0.124f, 0.25f, 1.1f, 2, NAN, 3e38f};
  static const uint8_t want[7] = {0x00, 0x7c, 0x7d, 0x80, 0x80, 0xff, 0xfe};
  Tensor *x = kt_f32(1, &d, v);
  KtRun r = kt_run(SIG1("f32"), UN("Cast", "to = 24", "e8m0"), &x);
  if (!r.ok) fail_msg("%s", r.err);
  for (int i = 0; i < 7; i++)
    if (tensor_get_bits(r.out[0], i) != want[i])
      fail_msg("element %d: got 0x%02x, want 0x%02x", i, (unsigned)tensor_get_bits(r.out[0], i), want[i]);
  kt_free(&r);
  tensor_free(x);
  /* [1.1, 3]: "down" keeps the exponent field (0x7f, 0x80); "nearest"
   * rounds up when the guard bit (0x400000) is set: 1.1 (mantissa 0x0ccccd)
   * stays 0x7f, 3 (mantissa 0x400000) goes to 0x81. */
  int64_t two = 2;
  const float w[2] = {1.1f, 3};
  x = kt_f32(1, &two, w);
  const char *modes[2] = {UN("Cast", "round_mode = \"down\", to = 24", "e8m0"),
                          UN("Cast", "round_mode = \"nearest\", to = 24", "e8m0")};
  static const uint8_t want_mode[2][2] = {{0x7f, 0x80}, {0x7f, 0x81}};
  for (int m = 0; m < 2; m++) {
    r = kt_run(SIG1("f32"), modes[m], &x);
    if (!r.ok) fail_msg("%s", r.err);
    for (int i = 0; i < 2; i++) assert_int_equal(tensor_get_bits(r.out[0], i), want_mode[m][i]);
    kt_free(&r);
  }
  tensor_free(x);
}

static void test_cast(void **state) {
  (void)state;
  kt_cases(CAST_CASES, KT_COUNT(CAST_CASES), 0);
}

static void test_elementwise_errors(void **state) {
  (void)state;
  int64_t d23[2] = {2, 3}, d4 = 4, d2 = 2;
  Tensor *a = kt_f32(2, d23, NULL), *b = kt_f32(1, &d4, NULL);
  Tensor *i1 = tensor_new(IR_ELEM_I32, 1, &d2), *i0 = tensor_new(IR_ELEM_I32, 1, &d2);
  tensor_set_i64(i1, 0, 1);
  tensor_set_i64(i1, 1, 2);
  tensor_set_i64(i0, 0, 1); /* i0 = [1, 0] */
  Tensor *f64 = tensor_new(IR_ELEM_F64, 1, &d2), *two = kt_f32(1, &d2, NULL);
  Tensor *ab[2] = {a, b}, *div0[2] = {i1, i0}, *mixed[2] = {two, f64}, *clip[3] = {a, two, NULL};
  const KtErrCase errs[] = {
      {SIG2("f32"), BIN("Add", "", "f32"), ab, "cannot broadcast operand #1 of shape f32[4] with shape f32[2x3]"},
      {SIG2("i32"), BIN("Div", "", "i32"), div0, "op 'Div': integer division by zero"},
      {SIG2("i32"), BIN("Mod", "", "i32"), div0, "op 'Mod': integer division by zero"},
      {SIG2("i32"), BIN("BitShift", "direction = \"LEFT\"", "i32"), div0, "need an unsigned integer type"},
      {SIG2("u8"), BIN("BitShift", "direction = \"UP\"", "u8"), div0, "direction must be LEFT or RIGHT"},
      {SIG2("f32"), BIN("Add", "", "f32"), mixed, "operands are f32 and f64"},
      {SIG1("f32"), UN("Gelu", "approximate = \"erf\"", "f32"), &a, "approximate must be 'none' or 'tanh'"},
      {SIG1("i32"), UN("Sqrt", "", "i32"), div0, "op 'Sqrt': type i32 is not supported"},
      {SIG1("f32"), UN("Not", "", "bool"), &a, "operand and result must be bool"},
      {SIG3("f32"), "%y0 = Clip(%a0, %a1) : tensor<*xf32>\nreturn %y0", clip, "min must be a scalar, got 2 elements"},
      {SIG2("f32"), BIN("And", "", "bool"), ab, "operand type f32 is not supported (need bool)"},
      {SIG1("f32"), UN("Cast", "round_mode = \"odd\", to = 24", "e8m0"), &a, "round_mode must be 'up', 'down'"},
  };
  kt_errors(errs, KT_COUNT(errs));
  Tensor *all[] = {a, b, i1, i0, f64, two};
  for (size_t i = 0; i < KT_COUNT(all); i++) tensor_free(all[i]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_binary),        cmocka_unit_test(test_unary),        cmocka_unit_test(test_activation),
      cmocka_unit_test(test_narrow_floats), cmocka_unit_test(test_cast),         cmocka_unit_test(test_cast_exact),
      cmocka_unit_test(test_cast_f8),       cmocka_unit_test(test_cast_e8m0),
      cmocka_unit_test(test_elementwise_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
