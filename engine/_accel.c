/* engine._accel: the two Python loops of the one-person decision path, written in C.

Why it exists: on the one-at-a-time decision path (``prepare_facts`` then ``decide`` on
durable-rules) almp's own Python took longer than the durable-rules C core it drives. Measured
on DUL 2013 (20,000 ``bench.common.persons``, CPU time, best of 5): reading one person's facts
(``FactReader._fast`` plus the not-after check and the derived facts) took 3.86 us and writing
the stage-1 JSON text of the rules engine (``DurableBackend._body``) 1.83 us, against 5.43 us
for the C core itself. This module does the same two loops without the interpreter in between:
``read_facts`` and ``body`` (the numbers after: see the commit that introduced it).

The Python code stays the reference and the fallback: ``engine/policy/reader.py`` and
``engine/decide/durable.py`` use this module only when it imports, and
``tests/policy/test_accel.py`` checks on random and hostile input, for every shipped edition,
that both give exactly the same answers (same dict, same key order, same value types, or both
"ask the fact dictionary"; the same text or the same exception type). The tables and checks stay
in Python (enum choices, remembered dates and derived values, the pieces of JSON text, the date,
decimal and list readings, which this file calls): only the boolean and whole-number tests are
written again here, as ``reader._check`` writes them, on a spec built once per reader
(``FactReader._spec``). Only the public, documented C API is used.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* the kinds of a spec entry (engine/policy/reader.py, _KIND) */
enum { KIND_ENUM = 0, KIND_BOOL = 1, KIND_INT = 2, KIND_DATE = 3, KIND_CALL = 4 };
/* a spec entry: (kind, table or check, low, high, nullable, required) */
#define ENTRY_SIZE 6

static PyObject *TRUE_TEXT, *FALSE_TEXT, *CLOSE_TEXT, *EMPTY_TEXT, *POINTS_NAME;

/* table[key] for the tables of reader.py and durable.py (_Choices, _Derived, _Pieces): dict
   subclasses with __missing__ whose __getitem__ is dict's (tests/policy/test_accel.py checks). A
   key the dict holds is looked up as a dict (a subclass's subscript goes through a generic slot
   that finds dict.__getitem__ by name: most of the cost); any other key goes through the full
   subscript, so __missing__ runs. Same answer, new reference, or NULL with an exception set. */
static PyObject *
table_get(PyObject *table, PyObject *key)
{
    if (PyDict_Check(table)) {
        PyObject *value = PyDict_GetItemWithError(table, key);
        if (value != NULL)
            return Py_NewRef(value);
        if (PyErr_Occurred())
            return NULL;  /* an unhashable key: TypeError, as the subscript raises */
    }
    return PyObject_GetItem(table, key);
}

/* The typed value (new reference), ``slow`` (new reference) when only the fact dictionary can
   tell, or NULL with an exception set. Mirrors reader._check's functions one by one. */
static PyObject *
check_value(PyObject *entry, PyObject *value, PyObject *slow)
{
    PyObject *checker = PyTuple_GET_ITEM(entry, 1);
    long kind = PyLong_AsLong(PyTuple_GET_ITEM(entry, 0));
    if (kind == -1 && PyErr_Occurred())
        return NULL;
    switch (kind) {
    case KIND_ENUM:  /* _Choices: the allowed values and null (when allowed); __missing__ gives slow */
        return table_get(checker, value);
    case KIND_BOOL:
        if (value == Py_True || value == Py_False)
            return Py_NewRef(value);
        break;
    case KIND_INT:
        if (PyLong_CheckExact(value)) {  /* type(value) is int: a bool or an int subclass is not */
            PyObject *low = PyTuple_GET_ITEM(entry, 2), *high = PyTuple_GET_ITEM(entry, 3);
            int ok = 1;
            if (low != Py_None)
                ok = PyObject_RichCompareBool(value, low, Py_GE);
            if (ok > 0 && high != Py_None)
                ok = PyObject_RichCompareBool(value, high, Py_LE);
            if (ok < 0)
                return NULL;
            if (ok)
                return Py_NewRef(value);
        }
        break;
    case KIND_DATE: {  /* the texts already read (_DAYS), else the Python check */
        PyObject *day = PyDict_GetItemWithError(PyTuple_GET_ITEM(entry, 2), value);
        if (day != NULL)
            return Py_NewRef(day);
        if (PyErr_Occurred())
            return NULL;  /* an unhashable value: TypeError */
        return PyObject_CallOneArg(checker, value);
    }
    case KIND_CALL:
        return PyObject_CallOneArg(checker, value);
    default:
        PyErr_Format(PyExc_ValueError, "read_facts: unknown kind %ld", kind);
        return NULL;
    }
    /* bool and int: null is read as null when the fact allows it */
    if (value == Py_None && PyTuple_GET_ITEM(entry, 4) == Py_True)
        return Py_NewRef(Py_None);
    return Py_NewRef(slow);
}

/* The checked facts of raw (new dict), Py_None (new reference) when the fact dictionary must
   read them, or NULL with an exception set: FactReader._fast.

   env starts as a copy of raw (same keys, same order: what _fast's ``env[key] = typed`` builds,
   without growing a dict fact by fact) and each value is replaced by its typed value. */
static PyObject *
typed_facts(PyObject *raw, PyObject *spec, PyObject *required, PyObject *slow)
{
    PyObject *env = PyDict_Copy(raw);
    if (env == NULL)
        return NULL;
    Py_ssize_t pos = 0, found = 0;  /* keys of required facts */
    int plain = 1;  /* every key an exact str */
    PyObject *key, *value;
    while (PyDict_Next(raw, &pos, &key, &value)) {
        /* held: a check runs Python code (a value's __hash__ or __eq__ among it) */
        Py_INCREF(key);
        Py_INCREF(value);
        PyObject *typed = NULL;
        PyObject *entry = PyDict_GetItemWithError(spec, key);
        if (entry != NULL) {
            if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != ENTRY_SIZE) {
                PyErr_SetString(PyExc_ValueError, "read_facts: a spec entry is not a tuple of 6");
            }
            else {
                Py_INCREF(entry);
                typed = check_value(entry, value, slow);
                found += PyTuple_GET_ITEM(entry, 5) == Py_True;
                Py_DECREF(entry);
            }
        }
        plain &= PyUnicode_CheckExact(key);
        int stored = -1;
        if (typed != NULL && typed != slow)
            stored = typed == value ? 0 : PyDict_SetItem(env, key, typed);
        Py_DECREF(key);
        Py_DECREF(value);
        if (stored == 0) {
            Py_DECREF(typed);
            continue;
        }
        Py_DECREF(env);
        if (typed == slow) {  /* a value only the dictionary can judge */
            Py_DECREF(typed);
            Py_RETURN_NONE;
        }
        Py_XDECREF(typed);  /* non-NULL only when PyDict_SetItem failed */
        if (entry == NULL && !PyErr_Occurred())
            Py_RETURN_NONE;  /* an unknown or derived fact */
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {  /* _fast's ``except TypeError`` */
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        return NULL;
    }
    /* _fast's ``len(env) < len(required) or not required.issubset(env)``. With exact str keys (one
       key per fact, equal only when the same text) that is: every required name the spec marks was
       a key, so counting them is enough. Any other key (a str subclass may define its own equality,
       and two such keys of one fact count differently in issubset on 3.11 and on 3.12) is judged by
       the very same issubset. */
    Py_ssize_t size = PySet_Size(required);
    int complete = found == size;
    if (!plain && size >= 0 && PyDict_Size(env) >= size) {
        PyObject *answer = PyObject_CallMethod(required, "issubset", "O", env);
        complete = answer == NULL ? -1 : PyObject_IsTrue(answer);
        Py_XDECREF(answer);
    }
    if (complete < 0 || size < 0) {
        Py_DECREF(env);
        return NULL;
    }
    if (!complete) {
        Py_DECREF(env);
        Py_RETURN_NONE;
    }
    return env;
}

/* read_facts(raw, as_of, at, reading)

   FactReader.read up to the fact dictionary: the typed and derived facts of raw, or None when
   FactReader must hand raw to FactDictionary.prepare.
   raw: anything (only an exact dict is read); as_of: the evaluation date; at: the reader's
   (as_of, derivations) of the last read (FactReader._at); reading: FactReader._reading, that is
   (spec, required, slow, not_after, derive) with
   spec: dict name -> (kind, table or check, low, high, nullable, required) (for a date:
   (3, check, _DAYS, None, nullable, required)), nullable and required True or False;
   required: frozenset of the required names (FactReader.required: every one must be read); slow: reader._SLOW;
   not_after: tuple of the date facts that may not follow as_of; derive: FactReader._derivations. */
static PyObject *
read_facts(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "read_facts takes 4 arguments");
        return NULL;
    }
    PyObject *raw = args[0], *as_of = args[1], *at = args[2], *reading = args[3];
    if (!PyTuple_CheckExact(at) || PyTuple_GET_SIZE(at) != 2 || !PyTuple_CheckExact(reading)
            || PyTuple_GET_SIZE(reading) != 5) {
        PyErr_SetString(PyExc_TypeError, "read_facts: at must be a tuple of 2, reading a tuple of 5");
        return NULL;
    }
    PyObject *spec = PyTuple_GET_ITEM(reading, 0), *required = PyTuple_GET_ITEM(reading, 1);
    PyObject *slow = PyTuple_GET_ITEM(reading, 2), *not_after = PyTuple_GET_ITEM(reading, 3);
    PyObject *derivations = PyTuple_GET_ITEM(reading, 4);
    if (!PyDict_CheckExact(spec) || !PyFrozenSet_CheckExact(required) || !PyTuple_CheckExact(not_after)) {
        PyErr_SetString(PyExc_TypeError, "read_facts: spec must be a dict, required a frozenset, not_after a tuple");
        return NULL;
    }
    if (!PyDict_CheckExact(raw))
        Py_RETURN_NONE;
    PyObject *env = typed_facts(raw, spec, required, slow);
    if (env == NULL || env == Py_None)
        return env;
    /* a birth after as_of: the dictionary says so (outside _fast's ``except TypeError``) */
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(not_after); i++) {
        PyObject *day = PyDict_GetItemWithError(env, PyTuple_GET_ITEM(not_after, i));
        if (day == NULL && PyErr_Occurred())
            goto error;
        if (day != NULL && day != Py_None) {
            Py_INCREF(day);
            int after = PyObject_RichCompareBool(day, as_of, Py_GT);
            Py_DECREF(day);
            if (after < 0)
                goto error;
            if (after) {
                Py_DECREF(env);
                Py_RETURN_NONE;
            }
        }
    }
    /* the derived facts: FactReader._derivations(as_of), without the call while as_of stays the same */
    PyObject *functions;
    int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(at, 0), as_of, Py_EQ);
    if (same < 0)
        goto error;
    if (same)
        functions = Py_NewRef(PyTuple_GET_ITEM(at, 1));
    else if ((functions = PyObject_CallOneArg(derivations, as_of)) == NULL)
        goto error;
    PyObject *iterator = PyObject_GetIter(functions);
    Py_DECREF(functions);
    if (iterator == NULL)
        goto error;
    PyObject *item;
    while ((item = PyIter_Next(iterator)) != NULL) {
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 3) {
            Py_DECREF(item);
            Py_DECREF(iterator);
            PyErr_SetString(PyExc_TypeError, "read_facts: a derivation is not (name, source, derived)");
            goto error;
        }
        PyObject *name = PyTuple_GET_ITEM(item, 0), *source = PyTuple_GET_ITEM(item, 1);
        PyObject *derived = PyTuple_GET_ITEM(item, 2);
        int stored = 0;
        if (source == Py_None) {  /* computed from the evaluation date alone: ``derived`` is the value */
            stored = PyDict_SetItem(env, name, derived);
        }
        else {
            PyObject *from = PyDict_GetItemWithError(env, source);
            if (from != NULL) {
                Py_INCREF(from);
                PyObject *value = table_get(derived, from);  /* _Derived.__missing__ derives */
                Py_DECREF(from);
                stored = value == NULL ? -1 : PyDict_SetItem(env, name, value);
                Py_XDECREF(value);
            }
            else if (PyErr_Occurred())
                stored = -1;
        }
        Py_DECREF(item);
        if (stored < 0) {
            Py_DECREF(iterator);
            goto error;
        }
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred())
        goto error;
    return env;
error:
    Py_DECREF(env);
    return NULL;
}

/* Appends new reference ``piece`` to parts at *at after checking it is a str (as "".join does);
   steals the reference. 0, or -1 with an exception set. */
static int
put(PyObject *parts, Py_ssize_t *at, PyObject *piece)
{
    if (piece == NULL)
        return -1;
    if (!PyUnicode_Check(piece)) {
        PyErr_Format(PyExc_TypeError, "sequence item %zd: expected str instance, %.80s found",
                     *at, Py_TYPE(piece)->tp_name);
        Py_DECREF(piece);
        return -1;
    }
    PyTuple_SET_ITEM(parts, *at, piece);
    (*at)++;
    return 0;
}

/* env.get(name) as a new reference (None when absent), or NULL with an exception set */
static PyObject *
env_get(PyObject *env, PyObject *name)
{
    if (!PyDict_CheckExact(env))
        return PyObject_CallMethod(env, "get", "O", name);
    PyObject *value = PyDict_GetItemWithError(env, name);
    if (value == NULL)
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    return Py_NewRef(value);
}

/* body(texts, lifted, env, points): DurableBackend._body.

   texts: (head, names, pieces, points_piece); lifted: tuple of (key, function); the text is
   head, then per name pieces[i][env.get(names[i])], then points_piece[points, or env's points]
   (when points_piece is not None), then per lifted field key + "true"/"false" by the truth of
   function(env), then "}". */
static PyObject *
body(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "body takes 4 arguments");
        return NULL;
    }
    PyObject *texts = args[0], *lifted = args[1], *env = args[2], *points = args[3];
    if (!PyTuple_CheckExact(texts) || PyTuple_GET_SIZE(texts) != 4 || !PyTuple_CheckExact(lifted)) {
        PyErr_SetString(PyExc_TypeError, "body: texts must be (head, names, pieces, points_piece), lifted a tuple");
        return NULL;
    }
    PyObject *head = PyTuple_GET_ITEM(texts, 0), *names = PyTuple_GET_ITEM(texts, 1);
    PyObject *pieces = PyTuple_GET_ITEM(texts, 2), *points_piece = PyTuple_GET_ITEM(texts, 3);
    if (!PyTuple_CheckExact(names) || !PyTuple_CheckExact(pieces)) {
        PyErr_SetString(PyExc_TypeError, "body: names and pieces must be tuples");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names) < PyTuple_GET_SIZE(pieces) ? PyTuple_GET_SIZE(names) : PyTuple_GET_SIZE(pieces);
    Py_ssize_t size = 1 + n + (points_piece != Py_None) + 2 * PyTuple_GET_SIZE(lifted) + 1;
    PyObject *parts = PyTuple_New(size);
    if (parts == NULL)
        return NULL;
    Py_ssize_t at = 0;
    if (put(parts, &at, Py_NewRef(head)) < 0)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = env_get(env, PyTuple_GET_ITEM(names, i));
        if (value == NULL)
            goto error;
        PyObject *piece = table_get(PyTuple_GET_ITEM(pieces, i), value);  /* _Pieces.__missing__ */
        Py_DECREF(value);
        if (put(parts, &at, piece) < 0)
            goto error;
    }
    if (points_piece != Py_None) {
        PyObject *value = points != Py_None ? Py_NewRef(points) : env_get(env, POINTS_NAME);
        if (value == NULL)
            goto error;
        PyObject *piece = table_get(points_piece, value);
        Py_DECREF(value);
        if (put(parts, &at, piece) < 0)
            goto error;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(lifted); i++) {
        PyObject *pair = PyTuple_GET_ITEM(lifted, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_SetString(PyExc_TypeError, "body: a lifted field is not (key, function)");
            goto error;
        }
        PyObject *answer = PyObject_CallOneArg(PyTuple_GET_ITEM(pair, 1), env);
        if (answer == NULL)
            goto error;
        int truth = PyObject_IsTrue(answer);
        Py_DECREF(answer);
        if (truth < 0 || put(parts, &at, Py_NewRef(PyTuple_GET_ITEM(pair, 0))) < 0
                || put(parts, &at, Py_NewRef(truth ? TRUE_TEXT : FALSE_TEXT)) < 0)
            goto error;
    }
    if (put(parts, &at, Py_NewRef(CLOSE_TEXT)) < 0)
        goto error;
    PyObject *text = PyUnicode_Join(EMPTY_TEXT, parts);
    Py_DECREF(parts);
    return text;
error:
    /* the slots not yet filled are NULL, which tuple deallocation skips */
    Py_DECREF(parts);
    return NULL;
}

static PyMethodDef methods[] = {
    {"read_facts", (PyCFunction)(void (*)(void))read_facts, METH_FASTCALL,
     "read_facts(raw, as_of, at, reading) -> typed facts or None "
     "(FactReader.read up to the fact dictionary)."},
    {"body", (PyCFunction)(void (*)(void))body, METH_FASTCALL,
     "body(texts, lifted, env, points) -> the JSON text of a fact after its sid (DurableBackend._body)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "engine._accel",
    "The decision path's fact reading and JSON writing in C (engine/_accel.c says why).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
    /* process-wide constants, kept for the life of the process (one interpreter: single-phase init) */
    if (TRUE_TEXT == NULL) {
        TRUE_TEXT = PyUnicode_InternFromString("true");
        FALSE_TEXT = PyUnicode_InternFromString("false");
        CLOSE_TEXT = PyUnicode_InternFromString("}");
        EMPTY_TEXT = PyUnicode_InternFromString("");
        POINTS_NAME = PyUnicode_InternFromString("points");
        if (!TRUE_TEXT || !FALSE_TEXT || !CLOSE_TEXT || !EMPTY_TEXT || !POINTS_NAME)
            return NULL;
    }
    return PyModule_Create(&module);
}
