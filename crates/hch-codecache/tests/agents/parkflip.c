/*
 * parkflip: a JVMTI agent for tests that reproduces the native-wrapper leak of a profiler
 * restarting lock profiling: it re-registers jdk.internal.misc.Unsafe.park(ZJ)V with
 * RegisterNatives every `period` ms, alternating a forwarding hook and the original entry.
 * Each re-registration with another pointer makes the compiled native wrapper not entrant.
 *
 * The original entry comes from the NativeMethodBind event when it fires; Unsafe's natives
 * are bound before events are delivered, so the fallback intercepts RegisterNatives in the
 * JNI function table while calling Unsafe.registerNatives() once, and records the pointer.
 *
 * Build: gcc -shared -fPIC -O2 -I$JAVA_HOME/include -I$JAVA_HOME/include/linux parkflip.c
 * Use:   java -agentpath:/path/libparkflip.so=period=100 ...
 */
#include <jvmti.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (JNICALL *park_fn)(JNIEnv *, jobject, jboolean, jlong);

static park_fn original_park;
static volatile int stopping;
static int period_ms = 100;
static jniNativeInterface *saved_table;

/* The hook: forwards to the original, so the workload behaves the same. */
static void JNICALL park_hook(JNIEnv *env, jobject unsafe, jboolean absolute, jlong time) {
    original_park(env, unsafe, absolute, time);
}

/* NativeMethodBind: remembers the original park entry if the JVM reports it. */
static void JNICALL on_bind(jvmtiEnv *jvmti, JNIEnv *env, jthread thread, jmethodID method,
                            void *address, void **new_address) {
    char *name = NULL, *sig = NULL;
    if (original_park != NULL || (*jvmti)->GetMethodName(jvmti, method, &name, &sig, NULL) != JVMTI_ERROR_NONE) {
        return;
    }
    if (strcmp(name, "park") == 0 && strcmp(sig, "(ZJ)V") == 0 && address != (void *)park_hook) {
        original_park = (park_fn)address;
    }
    (*jvmti)->Deallocate(jvmti, (unsigned char *)name);
    (*jvmti)->Deallocate(jvmti, (unsigned char *)sig);
}

/* RegisterNatives interceptor for the fallback: records park, registers nothing. */
static jint JNICALL capture_register(JNIEnv *env, jclass cls, const JNINativeMethod *m, jint n) {
    for (jint i = 0; i < n; i++) {
        if (strcmp(m[i].name, "park") == 0 && strcmp(m[i].signature, "(ZJ)V") == 0) {
            original_park = (park_fn)m[i].fnPtr;
        }
    }
    return JNI_OK;
}

/* Fallback: calls Unsafe.registerNatives() with RegisterNatives intercepted. */
static void capture_via_table(jvmtiEnv *jvmti, JNIEnv *env, jclass unsafe) {
    jniNativeInterface *table = NULL;
    jmethodID reg = (*env)->GetStaticMethodID(env, unsafe, "registerNatives", "()V");
    if (reg == NULL || (*jvmti)->GetJNIFunctionTable(jvmti, &table) != JVMTI_ERROR_NONE) {
        (*env)->ExceptionClear(env);
        return;
    }
    saved_table = table;
    jniNativeInterface patched = *table;
    patched.RegisterNatives = capture_register;
    (*jvmti)->SetJNIFunctionTable(jvmti, &patched);
    (*env)->CallStaticVoidMethod(env, unsafe, reg);
    (*env)->ExceptionClear(env);
    (*jvmti)->SetJNIFunctionTable(jvmti, saved_table);
}

/* The flipper thread: one RegisterNatives per period, hook and original in turn. */
static void JNICALL flipper(jvmtiEnv *jvmti, JNIEnv *env, void *arg) {
    jclass unsafe = (jclass)arg;
    struct timespec ts = { period_ms / 1000, (long)(period_ms % 1000) * 1000000L };
    for (unsigned long i = 0; !stopping; i++) {
        nanosleep(&ts, NULL);
        JNINativeMethod m = { "park", "(ZJ)V", (i & 1) ? (void *)original_park : (void *)park_hook };
        if ((*env)->RegisterNatives(env, unsafe, &m, 1) != JNI_OK) {
            (*env)->ExceptionClear(env);
        }
    }
}

/* VMInit: find the original entry, then start the flipper as a JVMTI agent thread. */
static void JNICALL on_init(jvmtiEnv *jvmti, JNIEnv *env, jthread main_thread) {
    jclass unsafe = (*env)->FindClass(env, "jdk/internal/misc/Unsafe");
    if (unsafe == NULL) {
        (*env)->ExceptionClear(env);
        fprintf(stderr, "[parkflip] jdk.internal.misc.Unsafe not found\n");
        return;
    }
    if (original_park == NULL) {
        capture_via_table(jvmti, env, unsafe);
    }
    if (original_park == NULL) {
        fprintf(stderr, "[parkflip] could not find the original Unsafe.park\n");
        return;
    }
    jclass thread_class = (*env)->FindClass(env, "java/lang/Thread");
    jmethodID ctor = (*env)->GetMethodID(env, thread_class, "<init>", "(Ljava/lang/String;)V");
    jobject thread = (*env)->NewObject(env, thread_class, ctor, (*env)->NewStringUTF(env, "parkflip"));
    jclass global = (jclass)(*env)->NewGlobalRef(env, unsafe);
    (*jvmti)->RunAgentThread(jvmti, thread, flipper, global, JVMTI_THREAD_NORM_PRIORITY);
    fprintf(stderr, "[parkflip] flipping Unsafe.park every %d ms\n", period_ms);
}

static void JNICALL on_death(jvmtiEnv *jvmti, JNIEnv *env) {
    stopping = 1;
}

JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved) {
    jvmtiEnv *jvmti = NULL;
    if (options != NULL && strncmp(options, "period=", 7) == 0) {
        period_ms = atoi(options + 7) > 0 ? atoi(options + 7) : 100;
    }
    if ((*vm)->GetEnv(vm, (void **)&jvmti, JVMTI_VERSION_1_2) != JNI_OK) {
        return JNI_ERR;
    }
    jvmtiCapabilities caps;
    memset(&caps, 0, sizeof(caps));
    caps.can_generate_native_method_bind_events = 1;
    (*jvmti)->AddCapabilities(jvmti, &caps);
    jvmtiEventCallbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.VMInit = on_init;
    cb.VMDeath = on_death;
    cb.NativeMethodBind = on_bind;
    (*jvmti)->SetEventCallbacks(jvmti, &cb, sizeof(cb));
    (*jvmti)->SetEventNotificationMode(jvmti, JVMTI_ENABLE, JVMTI_EVENT_VM_INIT, NULL);
    (*jvmti)->SetEventNotificationMode(jvmti, JVMTI_ENABLE, JVMTI_EVENT_VM_DEATH, NULL);
    (*jvmti)->SetEventNotificationMode(jvmti, JVMTI_ENABLE, JVMTI_EVENT_NATIVE_METHOD_BIND, NULL);
    return JNI_OK;
}
