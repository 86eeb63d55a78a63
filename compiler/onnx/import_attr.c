/* ONNX AttributeProto -> IR attribute, checked against the op table: the
 * attribute must be one the op knows, of the kind the table says. GRAPH
 * attributes become regions (import.c); sparse tensors, type protos and the
 * plural tensor/graph kinds are refused with a clear message. */
#include <string.h>

#include "onnx/import_internal.h"

typedef Onnx__AttributeProto__AttributeType AttrType;

const char *onnx_attr_type_name(int type) {
  switch (type) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return "FLOAT";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return "INT";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return "STRING";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return "TENSOR";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: return "GRAPH";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: return "SPARSE_TENSOR";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: return "TYPE_PROTO";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return "FLOATS";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return "INTS";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: return "STRINGS";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return "TENSORS";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return "GRAPHS";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: return "SPARSE_TENSORS";
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: return "TYPE_PROTOS";
  default: return "UNDEFINED";
  }
}

/* IR version 1 models carry no type tag: tell the kind from the field set. */
static int attr_type(const Onnx__AttributeProto *a) {
  if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) return (int)a->type;
  if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
  if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
  if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
  if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static const char *copy_bytes(OnnxCtx *c, ProtobufCBinaryData b, bool *ok) {
  if (b.len && memchr(b.data, 0, b.len)) *ok = false;
  return arena_strndup(&c->m->arena, (const char *)b.data, b.len);
}

bool onnx_attr_to_ir(OnnxCtx *c, IrOpKind kind, const Onnx__AttributeProto *a, const char *node_desc, IrAttr *out) {
  const char *name = a->name ? a->name : "";
  int type = attr_type(a);
  if (a->ref_attr_name && *a->ref_attr_name) {
    diag_error(c->d, onnx_loc(c), "%s: attribute '%s' refers to a function attribute; functions are not supported",
               node_desc, name);
    return false;
  }
  IrAttrKind want;
  switch (type) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: want = IR_ATTR_FLOAT; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: want = IR_ATTR_INT; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: want = IR_ATTR_STRING; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: want = IR_ATTR_FLOATS; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: want = IR_ATTR_INTS; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: want = IR_ATTR_STRINGS; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: want = IR_ATTR_TENSOR; break;
  default:
    diag_error(c->d, onnx_loc(c), "%s: attribute '%s' of kind %s is not supported", node_desc, name,
               onnx_attr_type_name(type));
    return false;
  }
  const IrAttrRule *rule = ops_attr_rule(kind, name);
  if (!rule) {
    diag_error(c->d, onnx_loc(c), "%s: unknown attribute '%s' for op '%s'", node_desc, name, ops_name(kind));
    return false;
  }
  if (rule->kind != want) {
    diag_error(c->d, onnx_loc(c), "%s: attribute '%s' must be of kind %s, got %s", node_desc, name,
               ops_attr_kind_name(rule->kind), onnx_attr_type_name(type));
    return false;
  }
  memset(out, 0, sizeof *out);
  out->name = name;
  out->kind = want;
  bool ok = true;
  switch (want) {
  case IR_ATTR_FLOAT: out->u.f = a->f; break;
  case IR_ATTR_INT: out->u.i = a->i; break;
  case IR_ATTR_STRING: out->u.s = copy_bytes(c, a->s, &ok); break;
  case IR_ATTR_FLOATS:
    out->u.floats.v = a->floats;
    out->u.floats.n = (uint32_t)a->n_floats;
    break;
  case IR_ATTR_INTS:
    out->u.ints.v = a->ints;
    out->u.ints.n = (uint32_t)a->n_ints;
    break;
  case IR_ATTR_STRINGS: {
    const char **v = arena_calloc(&c->m->arena, a->n_strings ? a->n_strings : 1, sizeof *v);
    for (size_t i = 0; i < a->n_strings; i++) v[i] = copy_bytes(c, a->strings[i], &ok);
    out->u.strings.v = v;
    out->u.strings.n = (uint32_t)a->n_strings;
    break;
  }
  case IR_ATTR_TENSOR: {
    if (!a->t) {
      diag_error(c->d, onnx_loc(c), "%s: tensor attribute '%s' holds no tensor", node_desc, name);
      return false;
    }
    char what[512];
    snprintf(what, sizeof what, "%s: attribute '%s'", node_desc, name);
    out->u.tensor = onnx_tensor_to_const(c, a->t, NULL, what);
    if (!out->u.tensor) return false;
    break;
  }
  default: break;
  }
  if (!ok) {
    diag_error(c->d, onnx_loc(c), "%s: attribute '%s' holds a string with a NUL byte", node_desc, name);
    return false;
  }
  return true;
}
